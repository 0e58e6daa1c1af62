#!/usr/bin/env bash
# Proves deploy/Dockerfile's build stage on a machine without a Docker daemon: runs the
# Dockerfile's RUN steps (deploy/build-stage.sh) in its order on what each step sees there, from a
# clean copy of the HEAD commit filtered by .dockerignore, then checks the binary runs and needs
# only what gcr.io/distroless/cc-debian12 has. Fails if the Dockerfile's build steps no longer
# match what this script runs.
#
# Everything lives under target/image-build (wiped each run, except its cargo target dir, which a
# second run in the same CI job or on the same machine reuses); cargo-chef is installed once into
# target/tools/cargo-chef-VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export CARGO_TERM_COLOR=never
work="$repo/target/image-build"

fail() { echo "image-build-check: FAILED: $*" >&2; exit 1; }

commit="$(git rev-parse --short HEAD)"
rm -rf "$work/checkout" "$work/context" "$work/planner" "$work/src" "$work/run" "$work/avatar-studio"
mkdir -p "$work/checkout" "$work/context" "$work/planner" "$work/src" "$work/run"

# ---- the HEAD commit, as `docker build .` would send it ------------------------------------------
git archive --format=tar HEAD | tar -x -C "$work/checkout"
checkout="$work/checkout"
script="$checkout/deploy/build-stage.sh"
dockerfile="$checkout/deploy/Dockerfile"
[ -f "$checkout/.dockerignore" ] || fail "no .dockerignore in $commit"

# The build context: the checkout minus .dockerignore. Docker matches each pattern against the path
# from the context root, a match on a directory dropping all under it; tar, anchored and with `*`
# not crossing `/`, does the same for plain patterns. Refuse the rest rather than guess.
excludes=()
while IFS= read -r pat || [ -n "$pat" ]; do
  pat="${pat#"${pat%%[![:space:]]*}"}"
  pat="${pat%"${pat##*[![:space:]]}"}"
  case "$pat" in
    '' | '#'*) continue ;;
    '!'* | *'**'*) fail ".dockerignore pattern '$pat' needs Docker's full matching; extend this check first" ;;
  esac
  pat="${pat#/}"
  excludes+=("--exclude=./${pat%/}")
done < "$checkout/.dockerignore"
tar -C "$checkout" --anchored --no-wildcards-match-slash "${excludes[@]}" -cf - . | tar -C "$work/context" -xf -
context_files=$(find "$work/context" -type f | wc -l)
checkout_files=$(find "$checkout" -type f | wc -l)

# ---- the Dockerfile builds through the script, in the order this check runs -----------------------
# Its RUN, COPY and ADD lines, whitespace-normalised, must be exactly these: the stages below
# simulate them. Changing the Dockerfile's build means changing this list and the stages together.
expected="COPY --chmod=0755 deploy/build-stage.sh /usr/local/bin/build-stage.sh
RUN build-stage.sh chef-install
COPY . .
RUN build-stage.sh prepare
COPY --from=planner /src/recipe.json recipe.json
RUN build-stage.sh cook
COPY . .
RUN build-stage.sh build /avatar-studio
COPY --from=builder /avatar-studio /usr/local/bin/avatar-studio"
actual="$(grep -Ei '^[[:space:]]*(RUN|COPY|ADD)([[:space:]]|$)' "$dockerfile" | sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//')"
if [ "$actual" != "$expected" ]; then
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  fail "deploy/Dockerfile's RUN/COPY/ADD lines (> above) differ from what this check runs (<)"
fi

# ---- chef: the pinned cargo-chef -------------------------------------------------------------------
chef_version="$(bash "$script" chef-version)"
tools="$repo/target/tools/cargo-chef-$chef_version"
[ -x "$tools/bin/cargo-chef" ] || echo "installing cargo-chef $chef_version into $tools" >&2
bash "$script" chef-install "$tools" > "$work/chef-install.log" 2>&1 \
  || { tail -n 40 "$work/chef-install.log" >&2; fail "chef-install (log: $work/chef-install.log)"; }
export PATH="$tools/bin:$PATH"
export CARGO_TARGET_DIR="$work/target"

# Runs one stage of the script in DIR with its output in $work/NAME.log; sets $elapsed.
stage() {
  local dir="$1" name="$2"; shift 2
  local start=$SECONDS
  echo "-- $name (in ${dir#"$repo"/})" >&2
  (cd "$dir" && bash "$script" "$name" "$@") > "$work/$name.log" 2>&1 \
    || { tail -n 40 "$work/$name.log" >&2; fail "stage $name (log: $work/$name.log)"; }
  elapsed=$((SECONDS - start))
}

# ---- planner: the whole context ------------------------------------------------------------------
tar -C "$work/context" -cf - . | tar -C "$work/planner" -xf -
stage "$work/planner" prepare

# ---- builder: recipe.json alone, cook; then the whole context over it, build ------------------------
cp "$work/planner/recipe.json" "$work/src/recipe.json"
stage "$work/src" cook
cook_secs=$elapsed
tar -C "$work/context" -cf - . | tar -C "$work/src" -xf -
stage "$work/src" build "$work/avatar-studio"
build_secs=$elapsed

# What cook built must be all that build needed from outside the workspace: a dependency compiled
# now means the two stages resolved differently and the image's dependency layer is not reused.
recompiled="$(grep -E '^ +Compiling ' "$work/build.log" | grep -v "($work/src/" || true)"
[ -z "$recompiled" ] || fail "the build stage compiled dependencies that cook should have built:
$recompiled"

# ---- the binary ----------------------------------------------------------------------------------
bin="$work/avatar-studio"
[ -x "$bin" ] || fail "no binary at $bin"
# As in the image: no .env, no data directory, next to no environment.
help="$(cd "$work/run" && env -i PATH=/usr/bin:/bin "$bin" --help 2>&1)" \
  || fail "avatar-studio --help exited $?: $help"
grep -qw serve <<< "$help" || fail "avatar-studio --help does not mention serve:
$help"

# distroless/cc-debian12 ships glibc 2.36 (libc, libm, libdl, libpthread, librt, ld-linux) and
# libgcc_s; nothing else (no libssl, no libsqlite3).
ldd_out="$(ldd "$bin")" || fail "ldd $bin: $ldd_out"
libs=() bad=()
while read -r first rest; do
  [[ "$rest" == *"not found"* ]] && bad+=("$first (not found)") && continue
  name="${first##*/}"
  libs+=("$name")
  [[ "$name" =~ ^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$ ]] \
    || bad+=("$name")
done <<< "$ldd_out"
[ ${#bad[@]} -eq 0 ] || fail "the binary needs libraries distroless/cc-debian12 lacks: ${bad[*]}
$ldd_out"
glibc="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1)"
[ "$(printf '%s\n' "$glibc" 2.36 | sort -V | tail -n 1)" = 2.36 ] \
  || fail "the binary needs glibc $glibc; distroless/cc-debian12 has 2.36"

size=$(stat -c %s "$bin")
strip --strip-all -o "$work/avatar-studio.stripped" "$bin"
stripped=$(stat -c %s "$work/avatar-studio.stripped")
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "image build stage OK for $commit (cargo-chef $chef_version)"
echo "  context: $context_files of $checkout_files files after .dockerignore"
echo "  cook: ${cook_secs} s, build: ${build_secs} s"
echo "  binary: $(mib "$size") ($size bytes; $(mib "$stripped") with symbols stripped)"
echo "  needs: glibc >= $glibc; ${libs[*]}"
