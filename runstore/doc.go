// Package runstore owns the on-disk layout of runs:
//
//	store/<test-name>/<YYYYMMDDTHHMMSS.mmm±hhmm>/   one folder per run
//	    test.json       the test's options, seed, version and revision
//	    history.jsonl   every op, written as it happens
//	    history.edn     the same history in Jepsen's format
//	    results.json    the checkers' verdicts and evidence
//	    faultline.log   the run's log
//	    <node>/         files downloaded from each node (logs)
//	store/latest, store/current, store/<test-name>/latest   symbolic links
//
// It also recognises Jepsen's own store folders (history.edn + results.edn)
// so that they can be analysed again. It corresponds to Jepsen's jepsen.store.
package runstore
