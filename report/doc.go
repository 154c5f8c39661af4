// Package report writes what a capture holds as one HTML page that people
// can look at rather than read, as Wireshark's statistics windows and
// Trippy's map show traffic: a summary, an IO graph per protocol, the
// protocol hierarchy, the top conversations and endpoints (with their
// countries), the endpoints on a world map, the DNS, HTTP and TLS names
// seen, and, when given, a traceroute (a path table, and the path drawn on
// the map hop by hop) and the results of a port scan per host.
//
// A Report is fed one packet at a time (Add), as an analyze.Analyzer is: it
// is one, configured by AnalyzerConfig, so a report costs one pass over the
// capture and memory bounded by flows and names, never by packets. The IO
// graph keeps at most Config.Intervals intervals, the interval doubling as
// the capture grows (analyze.Config.IOLimit); tables and map markers stop at
// Config.Top rows, the rest counted. The page of a capture of any size thus
// stays small (a few hundred kilobytes, most of it the map).
//
// The page needs no network to be viewed: it is rendered by html/template
// (every name from the traffic is escaped), its charts are SVG drawn here,
// the map is package worldmap's outline of the countries (Natural Earth,
// public domain), and a few lines of inline script sort the tables (a
// click on a heading, or #sort=TABLE:COLUMN[:asc|desc] in the address). Its
// Content-Security-Policy allows only that style and that script (by hash)
// and forbids any load. Chart elements carry classes and data attributes
// that tests and scripts can count: path.country[data-code],
// circle.endpoint[data-country], polyline.io-series[data-protocol],
// g.phs-row[data-protocol], g.hop[data-ttl]; the root element's
// data-js-errors counts the page's script errors.
//
// ReadTrace and ReadScan read the JSON of `sonde trace --json` and the JSON
// lines of `sonde scan --json`.
//
// # Privileges
//
// None: report computes over the bytes and files it is given.
//
// # Concurrency
//
// A Report is not safe for concurrent use. ReadTrace and ReadScan may be
// called from any goroutine.
package report
