#!/usr/bin/env bash
# Runs every check the project has: formatting, go vet, staticcheck, gosec,
# the shell linter, the whole test suite under the race detector (browser, load and
# deployment tests included) and a short run of every fuzz target.
# Installs what it needs first. CI runs exactly this script.
set -euo pipefail
cd "$(dirname "$0")"

STATICCHECK_VERSION=v0.8.2
GOSEC_VERSION=v2.30.0
# A count rather than a duration: with a duration, a busy machine can end the
# run while a worker is mid-input, which go test reports as a failure.
FUZZ_TIME=${FUZZ_TIME:-20000x}

# The browser tests inject axe-core into every page. Its version is pinned,
# with its checksum, by the package.json and package-lock.json in this folder;
# npm installs it into node_modules there (git-ignored).
AXE_DIR=internal/browsertest/testdata/axe

step() { printf '\n== %s\n' "$*"; }

install_debian_packages() {
	local missing=()
	command -v chromium >/dev/null || missing+=(chromium)
	command -v shellcheck >/dev/null || missing+=(shellcheck)
	# Fonts for the emoji and Chinese, Japanese and Korean characters of the
	# demo's label names, so that the screenshots show them as a person
	# would see them rather than as empty boxes. Not needed for the checks
	# to pass, so only root installs them.
	local font
	for font in fonts-noto-color-emoji fonts-noto-cjk; do
		command -v dpkg-query >/dev/null || break
		if ! dpkg-query -W -f='${Status}' "$font" 2>/dev/null | grep -q 'install ok installed'; then
			if [ "$(id -u)" -eq 0 ]; then
				missing+=("$font")
			else
				echo "note: without the package $font, screenshots show some label names as boxes" >&2
			fi
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	step "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go_tool NAME MODULE@VERSION: installs a Go tool into GOBIN unless that
# version is already there, and prints its path.
go_tool() {
	local name=$1 pkg=$2 version=${2##*@}
	local bin
	bin="$(go env GOPATH)/bin/$name"
	if [ ! -x "$bin" ] || [ "$(cat "$bin.version" 2>/dev/null)" != "$version" ]; then
		go install "$pkg" >&2
		echo "$version" >"$bin.version"
	fi
	echo "$bin"
}

# install_axe_core installs the pinned axe-core with npm ci, unless that
# version is installed already. It fails when npm is missing or cannot
# install it: the browser tests need it.
install_axe_core() {
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "Node.js and npm are missing: the browser tests need axe-core from the npm registry; install Node.js 20 with npm (e.g. apt-get install nodejs npm)" >&2
		exit 1
	fi
	local want have
	want=$(json_field "$AXE_DIR/package.json" 'dependencies["axe-core"]')
	have=$(installed_axe_core)
	[ "$have" = "$want" ] && return
	step "installing axe-core $want with npm"
	if ! (cd "$AXE_DIR" && npm ci --ignore-scripts --no-audit --no-fund); then
		echo "npm could not install axe-core $want into $AXE_DIR/node_modules" >&2
		exit 1
	fi
	have=$(installed_axe_core)
	if [ "$have" != "$want" ]; then
		echo "after npm ci, $AXE_DIR/node_modules holds axe-core '$have', not $want" >&2
		exit 1
	fi
}

# json_field FILE EXPRESSION prints a field of a JSON file, e.g. 'version'.
json_field() {
	node -p "require(process.argv[1]).$2" "$PWD/$1"
}

# installed_axe_core prints the version of the axe-core installed for the
# browser tests, or nothing when it is not installed whole.
installed_axe_core() {
	[ -s "$AXE_DIR/node_modules/axe-core/axe.min.js" ] || return 0
	json_field "$AXE_DIR/node_modules/axe-core/package.json" version 2>/dev/null || true
}

step "tools"
install_debian_packages
install_axe_core
staticcheck=$(go_tool staticcheck "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION")
gosec=$(go_tool gosec "github.com/securego/gosec/v2/cmd/gosec@$GOSEC_VERSION")
go version; chromium --version; shellcheck --version | sed -n 2p; echo "axe-core $(installed_axe_core)"

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi

step "go mod tidy"
if ! go mod tidy -diff; then
	echo "go.mod or go.sum is not tidy: run go mod tidy" >&2
	exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
"$staticcheck" ./...

step "gosec"
"$gosec" -quiet ./...

step "shellcheck"
# Every shell script of the project, including the gcloud stub of the deploy tests.
mapfile -t scripts < <(git ls-files '*.sh' 2>/dev/null || find . -name '*.sh' -not -path './.git/*')
shellcheck .ci/run internal/deploycheck/testdata/gcloud "${scripts[@]}"

step "tests (race detector)"
go test -race -count=1 ./...

step "fuzzing, $FUZZ_TIME inputs per target"
# fuzz_targets prints "package target" for every fuzz test of the module.
fuzz_targets() {
	go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do
		for file in "$dir"/*_test.go; do
			[ -e "$file" ] || continue
			sed -n "s|^func \(Fuzz[A-Za-z0-9_]*\)(.*|$pkg \1|p" "$file"
		done
	done
}
mapfile -t targets < <(fuzz_targets)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }
for entry in "${targets[@]}"; do
	pkg=${entry% *} target=${entry#* }
	echo "-- $pkg $target"
	if ! out=$(go test -run='^$' -fuzz="^$target\$" -fuzztime="$FUZZ_TIME" "$pkg" 2>&1); then
		echo "$out" >&2
		exit 1
	fi
done

step "all checks passed"
