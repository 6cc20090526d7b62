// Package command tests what a newcomer meets first, through the real
// binary: the errors for bad flag and environment values, the warning for a
// WSREACTOR_* variable that names no flag, sizes with units, -version, and
// a start with the default admin port taken.
package command

import (
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }
