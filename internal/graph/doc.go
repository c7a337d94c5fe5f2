// Package graph owns the graph work of Faultline's transactional checkers:
// dependency graphs between transactions whose edges carry sets of typed
// relations (ww, wr, rw, process, realtime) as bitmasks, stored as compact
// adjacency arrays so that millions of transactions fit in little memory;
// strongly connected components by an iterative Tarjan (no recursion, so
// no stack blow-up on huge components); Elle's sequential extension of one
// relation by another (for snapshot-isolation cycles) without materialising
// the composed edges; and a bounded breadth-first search for the shortest
// cycles of a given shape (how many anti-dependency edges, whether two may
// be adjacent, which relations are required), under a time budget.
//
// It corresponds to the graph parts of Elle: elle.graph, elle.bfs,
// elle.BFSPath and elle.BitRels (jepsen-io/elle). The algorithms are our
// own: the cycle search runs one breadth-first search per anchor (the head
// of an anti-dependency edge, or of an edge of a required relation) over
// the product of nodes and a small automaton state, instead of Elle's
// enumeration of paths, and prunes with the components of the subgraph it
// may use.
//
// Nodes are int32 numbers 0..n-1; callers map them to transactions.
// Nothing here knows about histories, so the package sits in layer 1.
package graph
