// Package targets owns the targets file of 'vigil scan --targets': the
// list of AWS profiles and IAM roles to scan as one run, for estates that
// are not one AWS Organization (several organisations, standalone
// accounts, or no access to the management account).
//
// The file is YAML, because people keep these lists by hand, for years,
// and want comments beside the entries ("# payments, owned by team X");
// JSON is valid YAML, so a generated JSON file works too. Every error
// names the file and the line.
package targets
