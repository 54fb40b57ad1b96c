// Package text writes the report for people: the terminal and the
// --format text file. It renders a report.Document and nothing else, so it
// cannot disagree with the JSON; colour (termenv) lives here, never in the
// model.
package text
