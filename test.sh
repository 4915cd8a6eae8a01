#!/usr/bin/env bash
# The whole test suite, with what it needs: the browser suite drives Debian's `chromium` through
# `chromium-driver`, and the PostgreSQL store suite starts a throwaway cluster with `initdb` and
# `pg_ctl` from Debian's `postgresql`; they are installed here when missing (as root, or through
# sudo). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v chromium > /dev/null || missing+=(chromium)
command -v chromedriver > /dev/null || missing+=(chromium-driver)
# Debian keeps the server programs off PATH, in /usr/lib/postgresql/VERSION/bin.
if ! { command -v initdb && command -v pg_ctl; } > /dev/null \
  && ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' > /dev/null; then
  missing+=(postgresql)
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo > /dev/null; then
    as_root=(sudo)
  else
    as_root=()
  fi
  if ! command -v apt-get > /dev/null || { [ "$(id -u)" -ne 0 ] && ((${#as_root[@]} == 0)); }; then
    echo "test.sh: cannot install ${missing[*]} (needs apt-get, and root or sudo); their suites will be skipped" >&2
  else
    echo "test.sh: installing ${missing[*]}" >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

exec cargo test --locked "$@"
