package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDeployDocsLinks: every relative link of the pages under deploy/
// names a file or directory that exists.
func TestDeployDocsLinks(t *testing.T) {
	pages, err := filepath.Glob(deployPath(t, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(deployPath(t, "*", "*.md"))
	pages = append(pages, more...)
	if len(pages) < 7 {
		t.Fatalf("%d pages under deploy/; want the index and one per target", len(pages))
	}
	link := regexp.MustCompile(`\]\(([^)\s]*)\)`)
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || target == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s: link to %s: %v", page, m[1], err)
			}
		}
	}
}
