"""CRMEF (Liu et al., "Searching a Compact Architecture for Robust Multi-Exposure Image Fusion"): scene
relighting, deformable alignment and detail repletion, with a latency-constrained architecture search.

Modules: ``config`` (the dataclass), ``deform`` (deformable convolution from exportable ops), ``ops`` (the
search space), ``network`` (the network with its searched layers left to a chooser), ``search`` (the
super-network, eq. 4-6, genotypes), ``latency`` (latency tables measured in the deploy runtimes),
``search_task`` (``edgemef search crmef``), ``train_task`` / ``train_options`` (``edgemef train crmef``),
``weights``, ``fusion`` (``--model crmef``), ``family`` (the declaration). Export comes next.
"""
