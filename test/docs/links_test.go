// Package docs_test checks the links of every Markdown file in the
// repository, so the documentation does not rot as code moves:
//
//   - a relative link names a file or directory that exists, inside the
//     repository (none may climb out of its root);
//   - a link's #anchor names a heading (or an HTML id) of the page it points
//     to, with GitHub's rules for turning a heading into an anchor;
//   - an absolute link is https:// with a host (nothing is fetched: the test
//     needs no network).
//
// Links are read as GitHub reads them: inline links and images
// ([text](dest), ![alt](dest)), reference definitions ([name]: dest),
// autolinks (<https://...>) and the href and src attributes of inline HTML;
// nothing inside code (fenced blocks, `spans`) is a link.
package docs_test

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestDocsLinks checks every Markdown file of the repository.
func TestDocsLinks(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil ||
		!strings.HasPrefix(string(b), "module github.com/wsreactor/wsreactor\n") {
		t.Fatalf("docs: %s is not the repository root (go.mod: %v)", root, err)
	}
	pages, err := markdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	// A floor, so that a walk that finds nothing cannot pass.
	for _, must := range []string{"README.md", "docs/architecture.md", "bench/README.md", "examples/README.md", "third_party/gnet/PATCH.md"} {
		if !slices.Contains(pages, must) {
			t.Errorf("docs: %s not found among the Markdown files %q", must, pages)
		}
	}
	c := newChecker(root)
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			for _, e := range c.check(p) {
				t.Error(e)
			}
		})
	}
}

// TestCheckerFindsBrokenLinks runs the checker over a small tree with one
// broken link of each kind, and one good link of each kind.
func TestCheckerFindsBrokenLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("code/main.go", "package main\n")
	write("docs/other.md", "# Other page\n\n## Flags (`-procs`)\n\n## Flags (`-procs`)\n\n<a id=\"raw-anchor\"></a>\n")
	write("docs/page.md", strings.Join([]string{
		"# Page",
		"",
		"Good: [a](other.md), [b](other.md#other-page), [c](other.md#flags--procs-1),",
		"[d](../code/main.go), [e](../code), [f](#page), [g](https://example.com/x),",
		"[h](other.md#raw-anchor), ![i](../code/main.go), <https://example.com/auto>,",
		"[j](<other.md>), [k](other.md \"title\"), [l](%2E%2E/code/main.go).",
		"",
		"`[not a link](nowhere.md)`",
		"",
		"```",
		"[not a link either](nowhere.md)",
		"# not a heading",
		"```",
		"",
		"Bad: [m](missing.md), [n](other.md#no-such-heading), [o](#not-a-heading),",
		"[p](../../outside.md), [q](http://example.com/), [r](/docs/other.md),",
		"[s](../code/main.go#L1), [t](ftp://example.com/), [u](https://), [v](#flags--procs-2).",
		"",
		"[ref]: ../missing-ref.md",
		"<a href=\"http://example.com/html\">w</a> <img src=\"gone.png\">",
		"",
	}, "\n"))
	errs := newChecker(root).check("docs/page.md")
	want := []string{
		"missing.md", "other.md#no-such-heading", "#not-a-heading", "../../outside.md",
		"http://example.com/", "/docs/other.md", "../code/main.go#L1", "ftp://example.com/",
		"https://", "#flags--procs-2", "../missing-ref.md", "http://example.com/html", "gone.png",
	}
	if len(errs) != len(want) {
		t.Errorf("check(docs/page.md) = %d errors, want %d:\n%s", len(errs), len(want), strings.Join(errs, "\n"))
	}
	for _, w := range want {
		found := false
		for _, e := range errs {
			if strings.Contains(e, ": link ("+w+"): ") {
				found = true
			}
		}
		if !found {
			t.Errorf("check(docs/page.md): no error for %q; got:\n%s", w, strings.Join(errs, "\n"))
		}
	}
}

// TestSlug pins the heading-to-anchor rule to GitHub's.
func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Known limits", "known-limits"},
		{"Several processes on one port (`-procs`)", "several-processes-on-one-port--procs"},
		{"Compression (permessage-deflate)", "compression-permessage-deflate"},
		{"`WSREACTOR_ADDR` and friends", "wsreactor_addr-and-friends"},
		{"A byte's path through this server", "a-bytes-path-through-this-server"},
		{"The [frame](frame) decoder", "the-frame-decoder"},
		{"200,000 connections", "200000-connections"},
		{"安装", "安装"},
		{"Twisted → wsreactor", "twisted--wsreactor"},
	} {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q; want %q", tc.heading, got, tc.want)
		}
	}
}

// markdownFiles lists the *.md files under root, slash-separated and
// relative to it, skipping .git and installed npm packages.
func markdownFiles(root string) ([]string, error) {
	var pages []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			pages = append(pages, filepath.ToSlash(rel))
		}
		return nil
	})
	return pages, err
}

// checker checks the links of pages under one root, reading each page once.
type checker struct {
	root  string
	pages map[string]*page // by slash path relative to root
}

// page is a Markdown file read for checking: its lines with code blanked
// out, and the anchors its headings and HTML ids define.
type page struct {
	lines   []string
	anchors map[string]bool
	err     error
}

func newChecker(root string) *checker {
	return &checker{root: root, pages: map[string]*page{}}
}

var (
	fence     = regexp.MustCompile("^ {0,3}(```|~~~)")
	codeSpan  = regexp.MustCompile("``[^`]+(`[^`]+)*``|`[^`]*`")
	atxHead   = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$`)
	htmlID    = regexp.MustCompile(`<a\s[^>]*(?:id|name)="([^"]+)"`)
	inline    = regexp.MustCompile(`\]\(\s*(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)(?:\s+"[^"]*")?\s*\)`)
	reference = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(\S+)`)
	autolink  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^<>\s]*)>`)
	htmlAttr  = regexp.MustCompile(`\s(?:href|src)="([^"]*)"`)
	mdLink    = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
)

// load reads and indexes the page at rel (slash path), once.
func (c *checker) load(rel string) *page {
	if p, ok := c.pages[rel]; ok {
		return p
	}
	p := &page{anchors: map[string]bool{}}
	c.pages[rel] = p
	b, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(rel)))
	if err != nil {
		p.err = err
		return p
	}
	inFence := false
	seen := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			p.lines = append(p.lines, "")
			continue
		}
		if inFence {
			p.lines = append(p.lines, "")
			continue
		}
		if m := atxHead.FindStringSubmatch(line); m != nil {
			s := slug(m[1])
			if n := seen[s]; n > 0 {
				p.anchors[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				p.anchors[s] = true
			}
			seen[s]++
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			p.anchors[m[1]] = true
		}
		p.lines = append(p.lines, codeSpan.ReplaceAllString(line, "``"))
	}
	return p
}

// check returns one message for each bad link of the page at rel.
func (c *checker) check(rel string) []string {
	p := c.load(rel)
	if p.err != nil {
		return []string{p.err.Error()}
	}
	var errs []string
	for i, line := range p.lines {
		var dests []string
		for _, re := range []*regexp.Regexp{inline, autolink, htmlAttr} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				dests = append(dests, m[1])
			}
		}
		if m := reference.FindStringSubmatch(line); m != nil {
			dests = append(dests, m[1])
		}
		for _, d := range dests {
			if err := c.checkLink(rel, strings.TrimSuffix(strings.TrimPrefix(d, "<"), ">")); err != nil {
				errs = append(errs, fmt.Sprintf("%s:%d: link (%s): %v", rel, i+1, d, err))
			}
		}
	}
	return errs
}

// checkLink checks one link destination dest found on the page at from.
func (c *checker) checkLink(from, dest string) error {
	if i := strings.IndexAny(dest, ":/#?"); i > 0 && dest[i] == ':' {
		u, err := url.Parse(dest)
		switch {
		case err != nil:
			return err
		case u.Scheme != "https":
			return fmt.Errorf("absolute links must be https://, not %s:", u.Scheme)
		case u.Host == "":
			return fmt.Errorf("no host")
		}
		return nil
	}
	target, frag, _ := strings.Cut(dest, "#")
	target, err := url.PathUnescape(target)
	if err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") {
		return fmt.Errorf("an absolute path: write it relative to the page")
	}
	to := from
	if target != "" {
		to = path.Join(path.Dir(from), target)
		if to == ".." || strings.HasPrefix(to, "../") {
			return fmt.Errorf("leaves the repository")
		}
		if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(to))); err != nil {
			return fmt.Errorf("no such file or directory in the repository")
		}
	}
	if frag == "" {
		return nil
	}
	if !strings.HasSuffix(to, ".md") {
		return fmt.Errorf("an anchor into %s, which is not a Markdown page", to)
	}
	if !c.load(to).anchors[frag] {
		return fmt.Errorf("%s has no heading with the anchor #%s", to, frag)
	}
	return nil
}

// slug is the anchor GitHub gives a heading: the heading's text (links
// replaced by their text, code marks dropped), in lower case, with
// everything but letters, digits, '-', '_' and spaces dropped and each
// space turned into '-'. A repeated heading gets -1, -2, ... (see load).
func slug(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
