package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinks: every relative link in the READMEs and the walkthrough
// names a file or directory that exists, and every #anchor a heading of
// the page, so the teaching material does not rot as code moves. Links
// outside the repository (the seed post under ../shared) are not checked.
func TestDocsLinks(t *testing.T) {
	if err := os.Chdir(filepath.Join("..", "..")); err != nil { // the repository root
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]*)\)`)
	heading := regexp.MustCompile(`(?m)^#+ (.*)$`)
	for _, page := range []string{"README.md", "docs/walkthrough.md", "examples/README.md"} {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		anchors := map[string]bool{}
		for _, h := range heading.FindAllStringSubmatch(string(b), -1) {
			anchors[slug(h[1])] = true
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, frag, _ := strings.Cut(m[1], "#")
			switch {
			case strings.Contains(target, "://"):
				continue
			case target == "":
				if !anchors[frag] {
					t.Errorf("%s: link to #%s: no such heading", page, frag)
				}
				continue
			}
			path := filepath.Join(filepath.Dir(page), target)
			if rel, err := filepath.Rel(".", path); err != nil || strings.HasPrefix(rel, "..") {
				continue // outside the repository
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link to %s: %v", page, m[1], err)
			}
		}
	}
}

// slug is the anchor GitHub gives a heading: lower case, punctuation
// dropped, spaces as hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}
