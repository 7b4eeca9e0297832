"""Training our own static code embedding model from a transformer teacher.

The pipeline, one module per step (``codesearch distill`` runs them in order):

1. ``data``: documentation-to-code pairs from a CodeSearchNet-style training corpus,
   turned into exactly the texts the index embeds, with a package-level dev split.
2. ``vocab``: frequent code words missing from the teacher's vocabulary.
3. ``teacher``: the teacher transformer, plus a resumable on-disk cache of its outputs.
4. ``base``: the Model2Vec step: one teacher pass per vocabulary entry, PCA, SIF weighting.
5. ``train``: fine-tuning of the embedding table: contrastive (InfoNCE, in-batch
   negatives) on docstring-to-code pairs, optionally plus tokenlearn-style regression
   onto the teacher's sentence embeddings.
6. ``recipe``: the orchestration and the saved model (Model2Vec format, model card).

Everything here needs the ``distill`` extra (torch, sentence-transformers, model2vec);
the model it writes loads with numpy and tokenizers alone (``codesearch.embed.static``).
"""
