package prevent

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// hclTokens renders a value as an HCL expression: strings are quoted and
// escaped by hclwrite (so "${" can never become an interpolation),
// objects keep their key order, and tfRef is written as the expression it
// holds.
func hclTokens(v any) (hclwrite.Tokens, error) {
	switch t := v.(type) {
	case string:
		return hclwrite.TokensForValue(cty.StringVal(t)), nil
	case literal:
		return hclwrite.TokensForValue(cty.StringVal(string(t))), nil
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(t)), nil
	case int:
		return hclwrite.TokensForValue(cty.NumberIntVal(int64(t))), nil
	case float64:
		return hclwrite.TokensForValue(cty.NumberFloatVal(t)), nil
	case tfRef:
		return exprTokens(string(t))
	case []string:
		elems := make([]any, len(t))
		for i, s := range t {
			elems[i] = s
		}
		return hclTokens(elems)
	case []any:
		var elems []hclwrite.Tokens
		for _, e := range t {
			tok, err := hclTokens(e)
			if err != nil {
				return nil, err
			}
			elems = append(elems, tok)
		}
		return hclwrite.TokensForTuple(elems), nil
	case obj:
		var attrs []hclwrite.ObjectAttrTokens
		for _, e := range t {
			name := hclwrite.TokensForValue(cty.StringVal(e.k))
			if hclsyntax.ValidIdentifier(e.k) {
				name = hclwrite.TokensForIdentifier(e.k)
			}
			val, err := hclTokens(e.v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.k, err)
			}
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: name, Value: val})
		}
		return hclwrite.TokensForObject(attrs), nil
	}
	return nil, fmt.Errorf("no HCL form for %T", v)
}

// exprTokens lexes an HCL expression written by Vigil itself (references,
// conditionals, function calls) into tokens hclwrite can place.
func exprTokens(src string) (hclwrite.Tokens, error) {
	lexed, diags := hclsyntax.LexExpression([]byte(src), "expr", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("expression %q: %s", src, diags.Error())
	}
	var out hclwrite.Tokens
	prevEnd := 0
	for _, t := range lexed {
		if t.Type == hclsyntax.TokenEOF {
			break
		}
		out = append(out, &hclwrite.Token{Type: t.Type, Bytes: t.Bytes, SpacesBefore: t.Range.Start.Byte - prevEnd})
		prevEnd = t.Range.End.Byte
	}
	return out, nil
}

func jsonencode(v any) (hclwrite.Tokens, error) {
	inner, err := hclTokens(v)
	if err != nil {
		return nil, err
	}
	return hclwrite.TokensForFunctionCall("jsonencode", inner), nil
}

// tfBlock builds one block; attrs are set in order.
type tfBlock struct {
	typ    string
	labels []string
	// comment is written above the block, one "# " line per line.
	comment string
	attrs   []kv
	blocks  []tfBlock
}

func (b tfBlock) write(body *hclwrite.Body) error {
	if b.comment != "" {
		writeComment(body, b.comment)
	}
	blk := body.AppendNewBlock(b.typ, b.labels)
	for _, a := range b.attrs {
		var tok hclwrite.Tokens
		var err error
		if enc, ok := a.v.(jsonValue); ok {
			tok, err = jsonencode(enc.v)
		} else {
			tok, err = hclTokens(a.v)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %s: %w", b.typ, strings.Join(b.labels, "."), a.k, err)
		}
		blk.Body().SetAttributeRaw(a.k, tok)
	}
	for _, nested := range b.blocks {
		if err := nested.write(blk.Body()); err != nil {
			return err
		}
	}
	return nil
}

// jsonValue marks an attribute written as jsonencode(<object>), the
// idiomatic way to put a policy or pattern in Terraform.
type jsonValue struct{ v any }

func writeComment(body *hclwrite.Body, text string) {
	var toks hclwrite.Tokens
	for _, line := range strings.Split(text, "\n") {
		c := "#"
		if line != "" {
			c += " " + line
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(c + "\n")})
	}
	body.AppendUnstructuredTokens(toks)
}

func tfVariable(name, typ, desc string, def any, comment string) tfBlock {
	attrs := []kv{{"description", desc}, {"type", tfRef(typ)}}
	if def != nil {
		attrs = append(attrs, kv{"default", def})
	}
	return tfBlock{typ: "variable", labels: []string{name}, comment: comment, attrs: attrs}
}

// terraform renders the Terraform configuration: the SCPs and their
// attachments, the central bus, topic and alert rule in the home region,
// forwarders in every monitored region of the management account, and a
// service-managed StackSet with a forwarder in every member account.
//
// It needs the AWS provider 6 or later: per-resource region (one provider
// for all regions, for_each over them) arrived in 6.0.
func terraform(o *Options) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	writeComment(body, terraformHeader(o))
	body.AppendNewline()

	var blocks []tfBlock
	blocks = append(blocks,
		tfBlock{typ: "terraform", blocks: []tfBlock{{typ: "required_providers", attrs: []kv{
			{"aws", obj{{"source", "hashicorp/aws"}, {"version", ">= 6.0"}}},
		}}}, attrs: []kv{{"required_version", ">= 1.5"}}},
		tfBlock{typ: "provider", labels: []string{"aws"}, comment: credentialsComment(o),
			attrs: []kv{{"region", tfRef("var.home_region")}}},
	)

	if o.Standalone {
		blocks = append(blocks, standaloneTerraform(o)...)
	} else {
		org, err := orgTerraform(o)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, org...)
	}

	for i, b := range blocks {
		if i > 0 {
			body.AppendNewline()
		}
		if err := b.write(body); err != nil {
			return nil, err
		}
	}
	return hclwrite.Format(f.Bytes()), nil
}

func scpOutput(o *Options) string {
	var parts []string
	for _, p := range SCPs(o.Partition) {
		name := strings.ReplaceAll(p.Key, "-", "_")
		parts = append(parts, fmt.Sprintf("%s = aws_organizations_policy.%s.id", name, name))
	}
	sort.Strings(parts)
	return "{ " + strings.Join(parts, ", ") + " }"
}

func scpComment(p SCP) string {
	switch p.Name {
	case DenyRootActionsName:
		return "Denies every action to member accounts' root users, except in sts:AssumeRoot sessions (the\nNull aws:AssumedRoot condition), so the management account can still delete root credentials centrally.\nCreating policies needs SCPs enabled on the root (vigil prevent --apply does it; Terraform cannot)."
	default:
		return "Denies root users creating access keys: the floor that stays if the policy above is lifted from\nan account for a root-only task."
	}
}

func credentialsComment(o *Options) string {
	if o.Standalone {
		return "Run with credentials of the account to watch."
	}
	return "Run with credentials of the management account."
}

func terraformHeader(o *Options) string {
	var b strings.Builder
	if o.Standalone {
		b.WriteString("Generated by Vigil (vigil prevent --standalone). Deploy with credentials of the account")
		if o.AccountID != "" {
			fmt.Fprintf(&b, " %s", o.AccountID)
		}
		b.WriteString(":\n  terraform init && terraform apply\n")
		b.WriteString("Needs the AWS provider 6.0 or later (per-resource region). The account is in no organisation,\nso there is no SCP: see README.md for what this cannot cover.")
		return b.String()
	}
	fmt.Fprintf(&b, "Generated by Vigil (vigil prevent). Deploy from the management account of the organisation")
	if o.OrganizationID != "" {
		fmt.Fprintf(&b, " %s", o.OrganizationID)
	}
	b.WriteString(":\n")
	b.WriteString("  terraform init && terraform apply\n")
	b.WriteString("Needs the AWS provider 6.0 or later (per-resource region). See README.md for what this\ncannot cover: no SCP applies to the management account.")
	return b.String()
}
