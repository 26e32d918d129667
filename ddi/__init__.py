"""ddi: explainable drug-drug interaction prediction.

Data flows one way: raw files -> validated tables (``ddi.data``) -> molecule graphs (``ddi.chem``) and the
pharmacology knowledge graph (``ddi.kg``) -> model -> predictions -> explanations.
"""

__version__ = "0.1.0"
