// Package notify owns what an alert is and how it leaves Vigil: the
// model of a delivery (transitions of findings, for one channel), the
// filter each channel applies (which transitions, from which severity),
// the Sender contract every channel implements, and the classification of
// send errors into retryable and permanent ones, so that the job running
// a delivery knows whether to back off and try again or give up.
//
// The channels live in their own packages, one per outside dependency:
// notify/webhook (signed JSON over HTTP, with Verify for receivers),
// notify/slack (incoming webhooks), notify/email (SMTP with STARTTLS) and
// notify/sns (sns:Publish through the AWS SDK). notify itself imports
// none of them and no store: the service builds a Delivery from its
// outbox and hands it to a Sender.
//
// A Delivery is rendered the same way everywhere: events in a fixed order
// (Ordered), and a subject and plain text (Subject, Text) that name every
// finding — account, rule, resource, evidence, link — rather than totals,
// because an alert that says "3 new findings" sends its reader to go and
// look for them.
package notify
