#!/usr/bin/env bash
# Refresh the vendored Swagger UI (served at /docs without internet) from the npm registry.
#   scripts/vendor_swagger_ui.sh [VERSION]     (default: the version in VERSION now)
# Takes dist/swagger-ui-bundle.js, dist/swagger-ui.css, dist/favicon-32x32.png and the
# package's LICENSE (Apache-2.0) and NOTICE, unmodified, from `npm pack swagger-ui-dist`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/slidewatch/service/static/vendor/swagger-ui"
version="${1:-$(awk '{print $2; exit}' "$dest/VERSION" 2>/dev/null || true)}"
[ -n "$version" ] || { echo "usage: $0 VERSION (e.g. 5.31.0)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$work"/swagger-ui-dist-*.tgz -C "$work"
mkdir -p "$dest"
for file in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp "$work/package/$file" "$dest/$file"
done
echo "swagger-ui-dist $version from the npm package (npm pack swagger-ui-dist@$version):" \
  "swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png, LICENSE (Apache-2.0), NOTICE." \
  "Unmodified." > "$dest/VERSION"
echo "vendored swagger-ui-dist $version into $dest"
