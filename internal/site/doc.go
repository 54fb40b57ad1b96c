// Package site owns the static HTML rendering of Vigil's knowledge base:
// an index, one page per rule, one per compliance framework, and a style
// sheet, with relative links only so the directory can be hosted anywhere
// or opened from disk.
//
// The pages are the knowledge base's Markdown rendered with goldmark (the
// same dialect the knowledge base is checked in); links between pages are
// rewritten from PAGE.md to PAGE.html. The framework pages and the index are
// generated from the compliance catalog and the rule list. Output bytes
// depend only on the inputs, so the site can be golden-tested and diffed.
package site
