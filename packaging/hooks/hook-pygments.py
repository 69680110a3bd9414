"""Replaces PyInstaller's hook of Pygments, which highlights the code blocks of answers.

Pygments imports a lexer's module by name when a fence names its language, so every lexer is
bundled; of the styles, only the two the code blocks use (app/views/code_block.py: LIGHT_STYLE
"default" and DARK_STYLE "github-dark", module gh_dark); none of the formatters, which the app
does not use (PyInstaller's own hook takes all three).
"""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = [*collect_submodules("pygments.lexers"), "pygments.styles.default", "pygments.styles.gh_dark"]
