package report

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"strconv"
	"sync"
)

// style is the page's whole stylesheet.
const style = `
:root{--fg:#1b1f24;--muted:#5b6570;--line:#d6dbe1;--bg:#fff;--panel:#f6f8fa;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 28px;background:#10263a;color:#fff}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d6e2}
nav{padding:6px 28px;background:var(--panel);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
nav a{margin-right:14px;color:var(--accent);text-decoration:none}
main{padding:8px 28px 40px;max-width:1280px}
section{margin-top:26px}
h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:140px}
.card b{display:block;font-size:18px}
.card span{color:var(--muted);font-size:12px}
svg.inline{display:inline;vertical-align:baseline}
.note{color:var(--muted);font-size:12px;margin:4px 0}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.wrap{white-space:normal;word-break:break-all;max-width:420px}
table.sortable th{cursor:pointer;user-select:none;background:var(--panel)}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}
table.sortable th[aria-sort=descending]::after{content:" ▼"}
tbody tr:hover{background:#eef4fa}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}
.axis line,.axis path{stroke:#888;stroke-width:1}
.grid{stroke:#e3e7eb;stroke-width:1}
.io-series{fill:none;stroke-width:1.6;pointer-events:none}
.io-hover{fill:#0b3d91;fill-opacity:0}
.io-hover:hover{fill-opacity:.08}
.phs-bar{fill:#0072B2}
.phs-bar-bg{fill:#edf1f5}
.map{background:#fff;border:1px solid var(--line);border-radius:6px}
.sphere{fill:#dcebf7;stroke:#b8cde0;stroke-width:.6}
.country{fill:#f3f1ea;stroke:#b9b5a8;stroke-width:.4}
.country.active{fill:#f6c667;stroke:#9b7b2c}
.country:hover{fill:#e8dcc0}
.endpoint{fill:#D55E00;fill-opacity:.65;stroke:#7a3300;stroke-width:.6}
.trace-path{fill:none;stroke:#0b3d91;stroke-width:2;stroke-dasharray:6 3}
.hop circle{fill:#fff;stroke:#0b3d91;stroke-width:1.6}
.hop text{font-size:9px;font-weight:bold;fill:#0b3d91;text-anchor:middle}
.trace-src{fill:#0b3d91}
.flag{font-family:"Noto Color Emoji","Apple Color Emoji","Segoe UI Emoji",sans-serif}
.code{color:var(--muted);font-size:11px}
.state-open{color:#00753c;font-weight:bold}
`

// script sorts the tables (on a click on a heading, or as the address's
// #sort=TABLE:COLUMN[:asc|desc] says) and records the page's script errors
// on the root element (data-js-errors), where a test reading the DOM finds
// them. sortBy sorts numbers most first and text in order, the other way on
// the next click; a click puts the sorted view in the address, so that a
// link to it sorts the same. No comments inside: html/template removes
// them, and the page's CSP allows the script by the hash of its text.
const script = `
(function(){
  var root=document.documentElement, errors=0;
  window.addEventListener("error",function(e){
    errors++; root.setAttribute("data-js-errors",String(errors));
    root.setAttribute("data-js-error",String(e.message));
  });
  function key(td){
    if(!td) return "";
    var v=td.getAttribute("data-v");
    if(v!==null && v!=="" && !isNaN(v)) return Number(v);
    return td.textContent.trim().toLowerCase();
  }
  function sortBy(table,col,dir){
    var body=table.tBodies[0], th=table.tHead.rows[0].cells[col];
    if(!body||!th) return;
    var asc=th.getAttribute("aria-sort")!=="ascending";
    if(th.getAttribute("aria-sort")===null && th.classList.contains("n")) asc=false;
    if(dir) asc=dir==="asc";
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=key(a.cells[col]), y=key(b.cells[col]);
      var c=(typeof x==="number"&&typeof y==="number")?x-y:String(x).localeCompare(String(y),undefined,{numeric:true});
      return asc?c:-c;
    });
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(th.parentNode.cells,function(h){h.removeAttribute("aria-sort");});
    th.setAttribute("aria-sort",asc?"ascending":"descending");
    return asc?"asc":"desc";
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"),function(table){
    var head=table.tHead; if(!head) return;
    Array.prototype.forEach.call(head.rows[0].cells,function(th,col){
      th.title="click to sort";
      th.addEventListener("click",function(){
        var dir=sortBy(table,col);
        if(table.id && dir) history.replaceState(null,"","#sort="+table.id+":"+col+":"+dir);
      });
    });
  });
  var m=/^#sort=([A-Za-z0-9-]+):([0-9]+)(?::(asc|desc))?$/.exec(location.hash);
  if(m){
    var t=document.getElementById(m[1]);
    if(t && t.classList.contains("sortable") && t.tHead) sortBy(t,Number(m[2]),m[3]);
  }
  root.setAttribute("data-js-ready","1");
})();
`

// csp returns the page's Content-Security-Policy: nothing may be loaded
// from anywhere; only the page's own style and script (by hash) apply.
func csp() string {
	return "default-src 'none'; style-src '" + hash(style) + "'; script-src '" + hash(script) +
		"'; img-src data:; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"bytes": humanBytes,
		"f1":    func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	}
}

// The page's template is parsed on first use: a program that imports
// report but writes no page (sonde running any other command) pays nothing
// for it at start-up.
var (
	parseOnce sync.Once
	parsed    *template.Template
)

func pageTemplate() *template.Template {
	parseOnce.Do(func() {
		parsed = template.Must(template.New("page").Funcs(funcs()).Parse(pageText))
	})
	return parsed
}

const pageText = (`<!DOCTYPE html>
<html lang="en" data-js-errors="0">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sonde report">
<title>{{.Title}}</title>
<style>` + style + `</style>
</head>
<body>
<header><h1>{{.Title}}</h1>{{if .Capture}}<p>capture <b>{{.Capture}}</b>{{if .Trace}}, trace to {{.Trace.Dst}}{{end}}{{if .ScanGiven}}, scan of {{len .Scan}} host(s){{end}}</p>{{end}}</header>
<nav><a href="#summary">Summary</a><a href="#io">IO graph</a><a href="#protocols">Protocols</a><a href="#map">Map</a><a href="#conversations">Conversations</a><a href="#endpoints">Endpoints</a><a href="#names">Names</a>{{if .Trace}}<a href="#trace">Trace</a>{{end}}{{if .ScanGiven}}<a href="#scan">Scan</a>{{end}}</nav>
<main>
<section id="summary"><h2>Summary</h2>
<div class="cards">
<div class="card"><b>{{.Summary.Packets}}</b><span>packets</span></div>
<div class="card"><b>{{.Summary.BytesText}}</b><span>{{.Summary.Bytes}} bytes on the wire</span></div>
<div class="card"><b>{{.Summary.Duration}}</b><span>{{if .Summary.Start}}from {{.Summary.Start}}{{else}}no packets{{end}}</span></div>
<div class="card"><b>{{.Summary.Endpoints}}</b><span>IP endpoints</span></div>
<div class="card"><b>{{.Summary.IPConversations}}</b><span>IP conversations</span></div>
<div class="card"><b>{{.Summary.TCPUDPConversations}}</b><span>TCP and UDP conversations</span></div>
</div>
{{if .Summary.Rate}}<p class="note">{{.Summary.Rate}} on average.</p>{{end}}
{{if .Summary.TopProtocols}}<h3>Top protocols (innermost, by bytes)</h3>
<table id="top-protocols"><thead><tr><th>Protocol</th><th class="n">Packets</th><th class="n">Bytes</th><th class="n">Share</th></tr></thead><tbody>
{{range .Summary.TopProtocols}}<tr class="top-protocol"><td><svg width="12" height="10" class="inline"><rect width="10" height="10" fill="{{.Color}}"/></svg> {{.Name}}</td><td class="n">{{.Frames}}</td><td class="n">{{.Bytes}}</td><td class="n">{{.Pct}}</td></tr>
{{end}}</tbody></table>{{end}}
</section>

<section id="io"><h2>IO graph</h2>
{{with .IO}}<p class="note">{{.N}} intervals of {{.Interval}}; one line per protocol (the innermost of each packet).</p>
<div class="legend">{{range .Legend}}<span class="legend-item" data-protocol="{{.Name}}"><svg width="12" height="10" class="inline"><rect width="10" height="10" fill="{{.Color}}"/></svg> {{.Name}} <span class="code">{{.Frames}} pkts, {{bytes .Bytes}}</span></span> &nbsp; {{end}}</div>
{{range .Charts}}{{$c := .}}<h3>{{.Title}}</h3>
<svg class="io-chart" data-metric="{{.Metric}}" viewBox="0 0 {{.W}} {{.H}}" width="{{.W}}" height="{{.H}}" role="img" aria-label="{{.Title}}">
<g class="grid-lines">{{range .YTicks}}<line class="grid" x1="{{$c.X0}}" y1="{{f1 .Pos}}" x2="{{$c.X1}}" y2="{{f1 .Pos}}"/>{{end}}</g>
<g class="axis y"><line x1="{{$c.X0}}" y1="{{$c.Y0}}" x2="{{$c.X0}}" y2="{{$c.Y1}}"/>{{range .YTicks}}<text x="{{$c.X0}}" dx="-6" y="{{f1 .Pos}}" dy="4" text-anchor="end">{{.Label}}</text>{{end}}</g>
<g class="axis x"><line x1="{{.X0}}" y1="{{.Y0}}" x2="{{.X1}}" y2="{{.Y0}}"/>{{range .XTicks}}<line x1="{{f1 .Pos}}" y1="{{$c.Y0}}" x2="{{f1 .Pos}}" y2="{{$c.TickY}}"/><text x="{{f1 .Pos}}" y="{{$c.Y0}}" dy="16" text-anchor="middle">{{.Label}}</text>{{end}}</g>
<g class="io-columns">{{range .Columns}}<rect class="io-hover" x="{{f1 .X}}" y="{{$c.Y1}}" width="{{f1 .W}}" height="{{$c.PlotH}}"><title>{{.Title}}</title></rect>{{end}}</g>
{{range .Series}}<polyline class="io-series" data-protocol="{{.Name}}" stroke="{{.Color}}" points="{{.Points}}"><title>{{.Title}}</title></polyline>
{{end}}</svg>
{{end}}{{else}}<p class="note">No packets: nothing to plot.</p>{{end}}
</section>

<section id="protocols"><h2>Protocol hierarchy</h2>
{{if .PHS}}<p class="note">Bars: share of all packets (tshark -z io,phs).</p>
<svg class="phs" viewBox="0 0 960 {{.PHSHeight}}" width="960" height="{{.PHSHeight}}">
{{range .PHS}}<g class="phs-row" data-protocol="{{.Path}}" data-frames="{{.Frames}}" data-bytes="{{.Bytes}}"><text x="{{f1 .LabelX}}" y="{{f1 .Y}}" dy="12">{{.Name}}</text><rect class="phs-bar-bg" x="220" y="{{f1 .Y}}" width="520" height="14"/><rect class="phs-bar" x="220" y="{{f1 .Y}}" width="{{f1 .BarW}}" height="14"/><text x="750" y="{{f1 .Y}}" dy="12">{{.Pct}} · {{.Frames}} pkts · {{bytes .Bytes}}</text><title>{{.Path}}: {{.Frames}} packets, {{.Bytes}} bytes</title></g>
{{end}}</svg>{{if .PHSMore}}<p class="note more">{{.PHSMore}} more protocols not shown.</p>{{end}}
{{else}}<p class="note">No packets.</p>{{end}}
</section>

<section id="map"><h2>Endpoints on the map</h2>
<p class="note">{{if .Geo}}{{.Map.Located}} endpoint(s) located{{if .Map.MarkersMore}} ({{.Map.MarkersMore}} not drawn){{end}}, in {{.Map.FilledCount}} countries (filled); markers sized by bytes{{if .Map.HasTrace}}; the dashed line is the trace, hop by hop{{end}}.{{else}}No geo database given: endpoints are not located.{{end}}{{if .NotLookedUp}} {{.NotLookedUp}} less active endpoints were not looked up.{{end}}</p>
<svg class="map" viewBox="{{.Map.ViewBox}}" width="1000" height="520" data-markers="{{len .Map.Markers}}" data-hops="{{len .Map.Hops}}">
<path class="sphere" d="{{.Map.Sphere}}"/>
<g class="countries">{{range .Map.Countries}}<path class="{{.Class}}" data-code="{{.Code}}" d="{{.Path}}"><title>{{.Title}}</title></path>{{end}}</g>
<g class="endpoints">{{range .Map.Markers}}<circle class="endpoint" data-country="{{.Country}}" data-addr="{{.Addr}}" cx="{{f1 .X}}" cy="{{f1 .Y}}" r="{{f1 .R}}"><title>{{.Title}}</title></circle>{{end}}</g>
{{if .Map.TracePath}}<polyline class="trace-path" points="{{.Map.TracePath}}"/>{{end}}
{{with .Map.Src}}<circle class="trace-src" cx="{{f1 .X}}" cy="{{f1 .Y}}" r="4"><title>{{.Title}}</title></circle>{{end}}
<g class="hops">{{range .Map.Hops}}<g class="hop" data-ttl="{{.TTL}}" data-addr="{{.Addr}}"><circle cx="{{f1 .X}}" cy="{{f1 .Y}}" r="7"/><text x="{{f1 .X}}" y="{{f1 .Y}}" dy="3">{{.TTL}}</text><title>{{.Title}}</title></g>{{end}}</g>
</svg>
{{if .Countries}}<h3>Countries</h3>
<table class="sortable" id="countries"><thead><tr><th>Country</th><th class="n">Endpoints</th><th class="n">Bytes</th></tr></thead><tbody>
{{range .Countries}}<tr><td><span class="flag">{{.Flag}}</span> {{.Name}} <span class="code">{{.Code}}</span></td><td class="n">{{.Endpoints}}</td><td class="n" data-v="{{.Bytes}}">{{bytes .Bytes}}</td></tr>
{{end}}</tbody></table>{{end}}
</section>

<section id="conversations"><h2>Top conversations</h2>
{{template "conv" .IPConvs}}
<h3>TCP and UDP</h3>
{{template "conv" .L4Convs}}
</section>

<section id="endpoints"><h2>Top endpoints</h2>
{{if .Endpoints}}<table class="sortable" id="endpoint-table"><thead><tr><th>Address</th><th>Country</th><th>City</th><th>AS</th><th class="n">Packets</th><th class="n">Bytes</th><th class="n">Tx packets</th><th class="n">Tx bytes</th><th class="n">Rx packets</th><th class="n">Rx bytes</th></tr></thead><tbody>
{{range .Endpoints}}<tr class="endpoint-row" data-country="{{.Country}}"><td>{{.Addr}}</td><td>{{if .Country}}<span class="flag">{{.Flag}}</span> {{.Country}}{{end}}</td><td>{{.City}}</td><td>{{.ASN}}</td><td class="n">{{.Frames}}</td><td class="n" data-v="{{.Bytes}}">{{bytes .Bytes}}</td><td class="n">{{.TxFrames}}</td><td class="n" data-v="{{.TxBytes}}">{{bytes .TxBytes}}</td><td class="n">{{.RxFrames}}</td><td class="n" data-v="{{.RxBytes}}">{{bytes .RxBytes}}</td></tr>
{{end}}</tbody></table>{{if .EndpointsMore}}<p class="note more">{{.EndpointsMore}} more endpoints not shown.</p>{{end}}
{{else}}<p class="note">No IP endpoints.</p>{{end}}
</section>

<section id="names"><h2>Names seen</h2>
<h3>DNS questions</h3>
{{if .DNS}}<table class="sortable" id="dns"><thead><tr><th>Name</th><th>Type</th><th class="n">Queries</th><th class="n">Responses</th><th>RCode</th><th>Answers</th></tr></thead><tbody>
{{range .DNS}}<tr class="dns-row"><td class="wrap">{{.Name}}</td><td>{{.Type}}</td><td class="n">{{.Queries}}</td><td class="n">{{.Responses}}</td><td>{{.RCode}}</td><td class="wrap">{{.Answers}}</td></tr>
{{end}}</tbody></table>{{if .DNSMore}}<p class="note more">{{.DNSMore}} more questions not shown.</p>{{end}}{{else}}<p class="note">None.</p>{{end}}
<h3>HTTP requests</h3>
{{if .HTTP}}<table class="sortable" id="http"><thead><tr><th class="n">Requests</th><th>Method</th><th>Host</th><th>Path</th><th>Responses</th></tr></thead><tbody>
{{range .HTTP}}<tr class="http-row"><td class="n">{{.Requests}}</td><td>{{.Method}}</td><td class="wrap">{{.Host}}</td><td class="wrap">{{.Path}}</td><td>{{.Status}}</td></tr>
{{end}}</tbody></table>{{if .HTTPMore}}<p class="note more">{{.HTTPMore}} more requests not shown.</p>{{end}}{{else}}<p class="note">None.</p>{{end}}
<h3>TLS server names (ClientHello SNI)</h3>
{{if .TLS}}<table class="sortable" id="tls"><thead><tr><th class="n">Hellos</th><th>Server name</th><th>ALPN</th></tr></thead><tbody>
{{range .TLS}}<tr class="tls-row"><td class="n">{{.Count}}</td><td class="wrap">{{.ServerName}}</td><td>{{.ALPN}}</td></tr>
{{end}}</tbody></table>{{if .TLSMore}}<p class="note more">{{.TLSMore}} more not shown.</p>{{end}}{{else}}<p class="note">None.</p>{{end}}
{{if .Dropped}}<p class="note">{{.Dropped}} application records were not kept (a summary reached its row limit).</p>{{end}}
</section>

{{with .Trace}}<section id="trace"><h2>Trace to {{.Dst}}</h2>
<p class="note">{{.Method}} probes{{if .Src}} from {{.Src}}{{end}}; {{if .Reached}}the destination answered{{else}}the destination did not answer{{end}}; {{.Sent}} probes sent, {{.Retried}} retried.</p>
<table class="sortable" id="trace-path"><thead><tr><th class="n">TTL</th><th>Address</th><th>Name</th><th>Country</th><th>City</th><th>AS</th><th class="n">Best RTT (ms)</th><th>RTTs (ms)</th><th class="n">Loss</th></tr></thead><tbody>
{{range .Rows}}<tr class="hop-row" data-ttl="{{.TTL}}"><td class="n">{{.TTL}}</td><td>{{if .Addr}}{{.Addr}}{{else}}*{{end}}</td><td>{{.Name}}</td><td>{{if .Country}}<span class="flag">{{.Flag}}</span> {{.Country}}{{end}}</td><td>{{.City}}</td><td>{{.ASN}}</td><td class="n" data-v="{{f1 .MinRTT}}">{{if ge .MinRTT 0.0}}{{printf "%.3f" .MinRTT}}{{end}}</td><td>{{.RTTs}}</td><td class="n" data-v="{{.LossSort}}">{{.Loss}}</td></tr>
{{end}}</tbody></table>
</section>{{end}}

{{if .ScanGiven}}<section id="scan"><h2>Scan</h2>
{{range .ScanPhases}}<p class="note scan-phase">{{.}}</p>{{end}}
{{range $i, $h := .Scan}}<div class="scan-host" data-addr="{{.Addr}}"><h3>{{.Addr}} {{if .Country}}<span class="flag">{{.Flag}}</span> <span class="code">{{.Country}}{{if .City}} {{.City}}{{end}}</span>{{end}}{{if .State}} — host {{.State}}{{end}}</h3>
{{if .Ports}}<table class="sortable scan-ports" id="ports-{{$i}}"><thead><tr><th class="n">Port</th><th>Proto</th><th>State</th><th>Service</th><th>Version</th><th>Reason</th></tr></thead><tbody>
{{range .Ports}}<tr class="port-row"><td class="n">{{.Port}}</td><td>{{.Proto}}</td><td class="state-{{.State}}">{{.State}}</td><td>{{.Service}}</td><td class="wrap">{{.Version}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>{{end}}{{if .More}}<p class="note more">{{.More}} more ports not shown.</p>{{end}}
{{if .Hidden}}<p class="note">Not shown: {{.Hidden}}.</p>{{end}}</div>
{{else}}<p class="note">The scan found nothing.</p>{{end}}
</section>{{end}}
</main>
<script>` + script + `</script>
</body>
</html>
{{define "conv"}}{{if .Rows}}<table class="sortable conversations" id="{{.ID}}"><thead><tr><th>Kind</th><th>A</th><th class="n">Port A</th><th>B</th><th class="n">Port B</th><th class="n">Packets A→B</th><th class="n">Bytes A→B</th><th class="n">Packets B→A</th><th class="n">Bytes B→A</th><th class="n">Packets</th><th class="n">Bytes</th><th class="n">Start (s)</th><th class="n">Duration (s)</th></tr></thead><tbody>
{{range .Rows}}<tr class="conv-row"><td>{{.Proto}}</td><td>{{if .CountryA}}<span class="flag">{{.FlagA}}</span> {{end}}{{.A}}</td><td class="n">{{.PortA}}</td><td>{{if .CountryB}}<span class="flag">{{.FlagB}}</span> {{end}}{{.B}}</td><td class="n">{{.PortB}}</td><td class="n">{{.FramesAB}}</td><td class="n" data-v="{{.BytesAB}}">{{bytes .BytesAB}}</td><td class="n">{{.FramesBA}}</td><td class="n" data-v="{{.BytesBA}}">{{bytes .BytesBA}}</td><td class="n">{{.Frames}}</td><td class="n" data-v="{{.Bytes}}">{{bytes .Bytes}}</td><td class="n" data-v="{{.StartSort}}">{{.Start}}</td><td class="n" data-v="{{.DurationSort}}">{{.Duration}}</td></tr>
{{end}}</tbody></table>{{if .More}}<p class="note more">{{.More}} more conversations not shown.</p>{{end}}{{else}}<p class="note">None.</p>{{end}}{{end}}`)
