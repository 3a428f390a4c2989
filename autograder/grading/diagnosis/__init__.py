"""Naming what is wrong with a failing function, only on conclusive evidence.

diagnose.py      the verdict's diagnosis: cascades first, then named mistakes, then structural signatures
mistakes.py      the registry of imagined mistakes, each checked by running it; mistakes_seen.py and
                 mistakes_notebooks.py: those real students make
signatures.py    structural signatures of wrong results (picture.py draws where they are wrong)
explain.py       an exception explained at the student's line
causes.py        the causes an exception's recorded frames settle, rules and words (shipped, as explain.py's
                 part is: the visible checks say the same)
raised.py        a mistake named from an exception's recorded frames, when they settle its cause (causes.py)
shapes.py        a result of the wrong shape explained axis by axis (the size equation with the case's numbers)
values.py        a result of the right shape with wrong values explained by where its wrong entries are (facts only)
structure.py     a result of the wrong kind (a list, an integer array, a cache of the wrong length) explained by what it holds
"""
