"""The GPU training recipe (teachers, distilled students, both shipped models in one command), kept out of the
runtime package: no user of emolens runs it, and `pip install emolens` does not ship it. See training/README.md.

Modules: `pack` (the data carried to the device), `budget` (the plan: seconds per epoch, the epochs that fit),
`stages` (jobs run as parallel processes), `bundle` (the state carried between calls), `run` (the steps), and
`__main__` (`python -m emolens_recipe pack|run`).
"""
