// The distance a collection ranks by, as a type every layer may use (index/, quant/, storage/
// included) without importing the public API's validation. Imports nothing.

/** The distance a collection ranks by. */
export type Metric = 'l2' | 'cosine' | 'ip';
