"""LoRA training (paper sections 4.3-4.5 and 5): the scripts that run on the GPU host, their launchers, the merge.

Importing this package, :mod:`runtime.training.launcher`, :mod:`runtime.training.registry` or
:mod:`runtime.training.merge` never imports torch, transformers or peft: the desktop app (and its
frozen bundle, which excludes them) uses those modules to describe, launch and follow runs. Only
the code that runs on the GPU host imports them, inside its functions: the scripts
``python -m runtime.training.pretrain --spec JOB.json`` and ``python -m runtime.training.sft --spec
JOB.json`` (the ``train`` extra: ``pip install 'alpaca-desk[train]'``) and the merge's worker.

Modules:

* ``launcher``: the job specification (:class:`~runtime.training.launcher.JobSpec`, a JSON file that
  local and remote targets receive alike), the target interface
  (:class:`~runtime.training.launcher.TrainingTarget`, :class:`~runtime.training.launcher.RunHandle`)
  and this computer's target (:class:`~runtime.training.launcher.LocalTarget`).
* ``remote``: the SSH target (its own sub-package).
"""
