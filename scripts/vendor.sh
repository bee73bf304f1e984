#!/bin/sh
# Copy the front-end packages from node_modules into static/vendor (not committed), with the
# fonts cut down and KERN's CSS pruned to what our pages use. Run from the checkout, after
# `npm ci` and `pip install -e .` (fontTools and Brotli come with the package).
set -eu
PYTHON=${PYTHON:-.venv/bin/python}
rm -rf static/vendor
mkdir -p static/vendor/htmx static/vendor/kern static/vendor/axe static/vendor/fonts
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
# The full bundle stays for comparison (tests/browser/test_pruned_css.py); pages link the
# pruned one. Its fonts are not copied: KERN's font CSS lacks font-display, and of its
# 32 Fira Sans styles and Noto Sans (not used) our pages need five, subset below.
cp node_modules/@kern-ux/native/dist/kern.min.css static/vendor/kern/
node scripts/purge-kern.mjs static/vendor/kern/kern.min.css static/vendor/kern/kern.pruned.css
"$PYTHON" scripts/subset_fonts.py node_modules/@kern-ux/native/dist/fonts/fira-sans static/vendor/fonts
cp node_modules/axe-core/axe.min.js static/vendor/axe/
# Pre-compressed copies of the vendored files (rebuilt with them, so never stale) for nginx's
# brotli_static and gzip_static (deploy/nginx/innolab.conf): no CPU per request, at the best
# ratio. Our own files nginx compresses.
find static/vendor -type f \( -name '*.css' -o -name '*.js' -o -name '*.svg' -o -name '*.json' \) \
  -size +1k -exec gzip -9 -k -f -n {} \; -exec "$PYTHON" scripts/brotli_copy.py {} \;
