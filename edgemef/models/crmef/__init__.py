"""CRMEF (Liu et al., "Searching a Compact Architecture for Robust Multi-Exposure Image Fusion"): scene
relighting, deformable alignment and detail repletion, with a latency-constrained architecture search.

Modules: ``config`` (the dataclass), ``deform`` (deformable convolution from exportable ops), ``ops`` (the
search space), ``network`` (the network with its searched layers left to a chooser), ``search`` (the
super-network, eq. 4-6, genotypes). Not yet a registered family: the latency tables, the search and
training commands, shipped weights and the export come next.
"""
