// Package rule defines what a Vigil rule is and what evaluating one
// produces: a Result with one of four statuses, a severity and the evidence
// behind it.
//
// Rules are pure functions of a snapshot. They never call AWS, so the same
// snapshot always gives the same results, online or offline.
package rule
