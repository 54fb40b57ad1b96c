// Package prevent owns the artefacts that keep root credentials from
// coming back in an AWS Organization: the service control policies
// (deny root actions except AssumeRoot sessions; deny root access key
// creation), the EventBridge pattern for root activity, and Terraform and
// CloudFormation that create, attach and deploy them — plus the README
// that says how, in what order, and what none of it can cover.
//
// Everything is generated from one Go description, so the JSON files, the
// Terraform and the CloudFormation cannot disagree, and output is
// deterministic: the same options give the same bytes. Generate checks its
// own output before returning it (policy grammar and the SCP size limit,
// HCL syntax and references, CloudFormation resource types, required
// properties and Ref/GetAtt targets), so a generator bug fails loudly
// instead of shipping a template that breaks on deploy.
//
// The package is pure: it makes no AWS calls. What it knows about the
// organisation (IDs, partition) comes in Options.
package prevent
