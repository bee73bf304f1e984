// KERN UX's full bundle pruned to the rules our pages can use (run by scripts/vendor.sh and,
// when a template, script or module changed, by the Makefile): PurgeCSS keeps a rule when
// every class, id and element name of one of its selectors occurs as a word in the
// templates, our JavaScript or the Python package. Classes put together at run time, whose
// whole name is in none of those files, are in SAFELIST. The full bundle stays beside the
// pruned one: tests/browser/test_pruned_css.py compares the pages' computed styles with both.
//
//   node scripts/purge-kern.mjs [full.css] [pruned.css]
import { readFileSync, writeFileSync } from "node:fs";
import { PurgeCSS } from "purgecss";

const [full = "static/vendor/kern/kern.min.css", pruned = "static/vendor/kern/kern.pruned.css"] =
  process.argv.slice(2);

export const CONTENT = ["templates/**/*.html", "static/js/*.js", "innolab/**/*.py"];

export const SAFELIST = {
  standard: [
    // modifiers chosen by a variable in a template: `kern-badge--{{ kind }}`, `kern-alert--…`,
    // `kern-btn--{{ 'secondary' if … }}`, `"kern-form-input__input--width-" ~ width`
    /^kern-badge--/, /^kern-alert--/, /^kern-btn--/, /^kern-form-input__input--width-/,
    // htmx's classes during a request and a swap (htmx-request, -swapping, -settling, -added)
    /^htmx-/,
    // named in KERN's rule that gives the page (`body`) its colour variables,
    // `:is(body,.kern-light,.kern-dark,…):not([class*=kern-level-])`, which PurgeCSS keeps
    // only when every name and attribute in the :is() is known
    "kern-light", "kern-dark", "data-kern-theme",
  ],
  greedy: [
    // KERN's state modifiers, which a page may gain when it changes (an open dialog, an
    // error): kept with every selector that names one
    /--(open|active|expanded|selected|current|disabled|error)$/,
    // a selector made of pseudo-classes only (the :is(body,…) above) has no name PurgeCSS
    // could find and would always go; the names inside :is() are still checked one by one
    /^:is$/,
  ],
};

const result = await new PurgeCSS().purge({
  css: [full],
  content: CONTENT,
  safelist: SAFELIST,
  // keep what the rules kept still refer to; drop no custom property (KERN's design tokens
  // are referenced through var() chains that PurgeCSS cannot follow reliably)
  variables: false,
  keyframes: true,
  fontFace: false,
  rejected: true,
});
const [{ css, rejected = [] }] = result;
writeFileSync(pruned, css);
const before = readFileSync(full).length;
console.log(`${pruned}: ${(css.length / 1024).toFixed(0)} KB of ${(before / 1024).toFixed(0)} KB ` +
  `(${rejected.length} selectors dropped)`);
if (process.env.PURGE_REJECTED) writeFileSync(process.env.PURGE_REJECTED, rejected.join("\n") + "\n");
