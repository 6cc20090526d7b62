package process

import (
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }
