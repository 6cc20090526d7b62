# lib-base.sh is sourced by the scripts that measure this tree's wsreactor
# (and optionally the one built from commit BASE) pinned beside wsload. It
# makes $tmp, builds $tmp/wsreactor, $tmp/wsload and, with BASE set,
# $tmp/base from a temporary worktree, and cleans up on exit (killing
# $server if set).
BASE=${BASE:-}
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	if [ -n "$BASE" ]; then git -C .. worktree remove --force "$tmp/base-tree" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd .. && go build -o "$tmp/wsreactor" .)
go build -o "$tmp/wsload" ./cmd/wsload
if [ -n "$BASE" ]; then
	git -C .. worktree add --detach "$tmp/base-tree" "$BASE" >/dev/null 2>&1
	(cd "$tmp/base-tree" && go build -o "$tmp/base" .)
fi
