#!/bin/sh
# Copy the front-end packages from node_modules into static/vendor (not committed).
set -eu
rm -rf static/vendor
mkdir -p static/vendor/htmx static/vendor/kern static/vendor/axe
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
cp node_modules/@kern-ux/native/dist/kern.min.css static/vendor/kern/
cp -R node_modules/@kern-ux/native/dist/fonts static/vendor/kern/
cp node_modules/axe-core/axe.min.js static/vendor/axe/
# Pre-compressed copies of the vendored files (rebuilt with them, so never stale) for nginx's
# gzip_static (deploy/nginx/innolab.conf): no CPU per request. Our own files nginx compresses.
find static/vendor -type f \( -name '*.css' -o -name '*.js' -o -name '*.svg' -o -name '*.json' \) \
  -size +1k -exec gzip -9 -k -f -n {} \;
