package html

// css is the whole style sheet, inline: system fonts only (nothing to
// fetch), colours that print (print-color-adjust), and a print layout
// without page breaks inside a finding.
const css = `
:root{--fail:#c62828;--unk:#7c3aed;--pass:#2e7d32;--na:#cfd4da;--crit:#8e0000;--high:#e65100;--med:#c79100;--low:#1565c0;--info:#6b7280;--ink:#1f2933;--mute:#5f6b7a;--line:#e3e7ec;--bg:#f6f8fa}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 8px}
h2{font-size:20px;margin:36px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:0 0 6px}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 0;color:var(--mute)}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere}
.banner{background:#fff4e5;border-left:4px solid var(--high);padding:10px 14px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 12px}
.card{flex:1 1 140px;border:1px solid var(--line);border-radius:8px;padding:12px 16px;border-top:4px solid var(--ink)}
.card b{display:block;font-size:28px;line-height:1.1}.card span{color:var(--mute)}
.card.fail{border-top-color:var(--fail)}.card.unk{border-top-color:var(--unk)}.card.pass{border-top-color:var(--pass)}.card.na{border-top-color:var(--na)}
.verdict{padding:10px 14px;border-radius:6px;background:var(--bg)}
.verdict.fail{background:#fdecea}.verdict.unk{background:#f3edff}.verdict.pass{background:#e8f5e9}
.charts{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0 0 20px;border:1px solid var(--line);border-radius:8px;padding:12px 16px;max-width:100%;overflow-x:auto}
figure.wide{width:100%}
figcaption{font-weight:600;margin-bottom:8px}
svg{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink);display:block}
svg.heat text{font-size:11px}
.fail{fill:var(--fail)}.unk{fill:var(--unk)}.pass{fill:var(--pass)}.na{fill:var(--na)}.none{fill:#fff;stroke:var(--line)}
.sev-critical{fill:var(--crit)}.sev-high{fill:var(--high)}.sev-medium{fill:var(--med)}.sev-low{fill:var(--low)}.sev-info{fill:var(--info)}
.legend{color:var(--mute);margin:8px 0 0;font-size:13px}
.legend i{display:inline-block;width:11px;height:11px;margin:0 4px 0 12px;vertical-align:-1px;border-radius:2px;border:1px solid var(--line)}
.legend i.fail{background:var(--fail)}.legend i.unk{background:var(--unk)}.legend i.pass{background:var(--pass)}.legend i.na{background:var(--na)}.legend i.none{background:#fff}
.legend i.sev-critical{background:var(--crit)}.legend i.sev-high{background:var(--high)}.legend i.sev-medium{background:var(--med)}.legend i.sev-low{background:var(--low)}
table{width:100%;border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th{text-align:left;font-weight:600;color:var(--mute);border-bottom:2px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top;overflow-wrap:anywhere}
td p{margin:0 0 4px}
.n{text-align:right;font-variant-numeric:tabular-nums}
table.accounts td:first-child,table.gaps td:first-child{white-space:nowrap}table.gaps code{overflow-wrap:normal;white-space:nowrap}table.accounts td:nth-child(n+4){text-align:right;font-variant-numeric:tabular-nums}
.st-failing{color:var(--fail);font-weight:600}.st-unknown{color:var(--unk);font-weight:600}.st-clean{color:var(--pass)}
.badge{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.03em;padding:1px 7px;border-radius:10px;color:#fff;background:var(--na);white-space:nowrap}
.badge.fail{background:var(--fail)}.badge.unk{background:var(--unk)}.badge.pass{background:var(--pass)}.badge.na{background:#8a939d}.badge.manual{background:#455a64}
span.sev{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;padding:1px 6px;border-radius:3px;color:#fff;background:var(--info)}
span.sev-critical{background:var(--crit)}span.sev-high{background:var(--high)}span.sev-medium{background:var(--med)}span.sev-low{background:var(--low)}
article.rule{border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:0 0 18px}
.counts{margin:0 0 8px;color:var(--mute)}
.fix{background:#eef6ff;border-left:4px solid var(--low);padding:8px 12px;margin:8px 0;border-radius:0 6px 6px 0}
.reqs{color:var(--mute);font-size:13px}
table.results td:first-child{width:110px}table.results td:nth-child(2){width:210px}
tr.fail td:first-child{border-left:3px solid var(--fail)}tr.unk td:first-child{border-left:3px solid var(--unk)}
ul.ev{margin:4px 0 0;padding-left:18px;color:var(--mute);font-size:13px}
.err{color:var(--fail)}.res{color:var(--mute);font-size:13px;margin:4px 0 0}
.check{color:var(--mute);font-size:13px}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 18px;margin:14px 0 0;padding:8px 0;border-top:1px solid var(--line);border-bottom:1px solid var(--line);font-weight:600}
nav.toc a,table.index a{color:var(--low);text-decoration:none}nav.toc a:hover,table.index a:hover{text-decoration:underline}
table.index td:nth-child(n+2),table.index th:nth-child(n+2){text-align:right;font-variant-numeric:tabular-nums;width:90px}
footer{margin-top:36px;color:var(--mute);font-size:13px;border-top:1px solid var(--line);padding-top:12px}
@media print{nav.toc{display:none}body{background:#fff;font-size:11pt}main{padding:0;max-width:none}figure,article.rule,tr{break-inside:avoid}h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}}
`
