// The changes to an HNSW graph: inserting a node (its level, the search for its neighbours on each
// of its layers, the neighbour-selection heuristic, and the links both ways), updating a node's
// vector (its neighbourhood re-linked), and the deleted mark. hnswlib's algorithm (Malkov &
// Yashunin's HNSW with its "heuristic 2" neighbour selection; Apache-2.0, see NOTICE), step for
// step and with its locks: per label (one insert or update of a label at a time), per node (its
// link lists), and the top lock held by an insert that raises the top layer until it is linked.
// With one thread the graph is byte-for-byte hnswlib's for the same calls (the tests compare the
// files). Inserts may run side by side (the graph's lock, hnsw-graph.h, keeps searches away).
#pragma once

#include "hnsw-store.h"

namespace quiver {

// Inserts `vector` (store.vector_bytes: dim floats, normalised for cosine, or int8 codes) under
// `label`, scoring it against the graph in its query form `query` (HnswStore::QueryDistance; for
// float graphs `vector` itself), or, when the label is in the graph, replaces its vector (undeleting it) and repairs the links around it, as hnswlib's
// addPoint(vector, label) on a graph without replaceable deleted slots. With `sorted` the
// neighbours of a new node are found by SortedSearch (hnsw-search.h), which needs a graph with no
// deleted node; else by the two-heap search. Throws when the graph is full.
void InsertNode(HnswStore& store, const void* vector, const void* query, StoredLabel label, bool sorted);

// Marks `label` deleted: searches skip it, its links stay. Throws when the label is not in the
// graph or already deleted.
void MarkDeleted(HnswStore& store, StoredLabel label);

}  // namespace quiver
