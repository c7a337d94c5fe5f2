// Package web serves a Faultline store in a browser: `faultline serve`.
//
// Pages:
//
//   - /: every run of the store (name, start time, verdict, duration,
//     client ops, the first anomaly), with text search, filters by verdict
//     and by test name, sorting by any column and paging, all done on the
//     server from query parameters (q, verdict, name, sort, order, page).
//     Run summaries are read from test.json and results.json (and the
//     history when those lack the numbers) and cached until those files
//     change.
//   - /run/<path inside the store>/: a run's page, its index.html (written
//     by package report) or else a listing of the folder; the run's files
//     under the same prefix, so the report's relative links work.
//   - /files/<path inside the store>: any file (streamed, with ranges and
//     conditional requests) or folder listing.
//   - /zip/<path inside the store>: a folder as a zip archive, streamed.
//
// Only files inside the store are served: paths with "." or ".." segments,
// absolute paths, backslashes, NULs and percent-encoded separators are
// refused, and every path is resolved with all its symbolic links and must
// land inside the store's real location (store/latest, a link inside the
// store, works). The server listens on localhost unless told otherwise,
// bounds the time to read a request's header and body, and drops a client
// that stops reading a download; a client that disconnects mid-download
// only ends its own request.
//
// The package corresponds to Jepsen's jepsen.web.
package web
