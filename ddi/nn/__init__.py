"""Neural network building blocks: molecule encoder, knowledge-graph context, relation-path block, heads."""
