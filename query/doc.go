// Package query compiles OData $filter, $orderby and $apply expressions against a
// columnar.Schema and executes them over segments (with their index sidecars) and
// memtable chunks. It is generic over tables: the binder only knows what the schema
// and a small per-table description (which columns are enums, which compare
// case-insensitively) say.
//
// The pipeline is: syntax.ParseFilter → bind (typed expression tree, positioned
// errors) → lower to row predicates (vectorized kernels) → per segment: zone-map
// pruning, roaring index probes, residual kernels on the surviving blocks → top-N,
// count or aggregation → late materialization of the selected rows as Graph JSON.
// See docs/query.md for the language, the planner and the Explain format.
package query
