"""The main window's menus: every action with its keys (the shortcuts dialog lists them from here)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from app.i18n import LANGUAGES
from app.views.server_dialog import open_server_dialog
from runtime.settings import COLOUR_SCHEMES


def build_menus(window: Any) -> None:
    """Fill the menu bar of ``window`` (the ``MainWindow``, not imported here: it imports this
    module); the actions other code reaches are kept on the window.

    The texts keep the ``MainWindow`` translation context they had as the window's own ``tr()``.
    """
    bar = window.menuBar()
    model_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Model"))
    open_action = model_menu.addAction(QCoreApplication.translate("MainWindow", "&Open model file…"))
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    open_action.triggered.connect(window.models_controller.choose_model)
    get_models = model_menu.addAction(QCoreApplication.translate("MainWindow", "&Get models…"))
    get_models.triggered.connect(window.hub_controller.open_dialog)
    window.recent_menu = model_menu.addMenu(QCoreApplication.translate("MainWindow", "Recent models"))
    window.recent_menu.aboutToShow.connect(lambda: window.models_controller.fill_recent_menu(window.recent_menu))
    window.unload_action = model_menu.addAction(QCoreApplication.translate("MainWindow", "&Unload model"))
    window.unload_action.triggered.connect(window.models_controller.unload_model)
    model_menu.addSeparator()
    convert_action = model_menu.addAction(QCoreApplication.translate("MainWindow", "&Convert and quantize my weights…"))
    convert_action.triggered.connect(window.open_convert_wizard)
    model_menu.addSeparator()
    quit_action = model_menu.addAction(QCoreApplication.translate("MainWindow", "&Quit"))
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.tray_controller.request_quit)

    chat_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Conversation"))
    new_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "&New conversation"))
    new_action.setShortcut(QKeySequence.StandardKey.New)
    new_action.triggered.connect(window.conversations_controller.new_conversation)
    window.search_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "&Search conversations"))
    window.search_action.setShortcut(QKeySequence.StandardKey.Find)
    window.search_action.triggered.connect(window.conversations.focus_search)
    chat_menu.addSeparator()
    window.focus_input_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "&Write a message"))
    window.focus_input_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_L))
    window.focus_input_action.triggered.connect(lambda: window.input.setFocus(Qt.FocusReason.ShortcutFocusReason))
    # Enabled only while an answer is written: otherwise Esc belongs to the focused widget
    # (the input box cancels an edit with it, the search field clears itself).
    window.stop_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "S&top the answer"))
    window.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    window.stop_action.setEnabled(False)
    window.stop_action.triggered.connect(window.chat_controller.stop)
    window.copy_answer_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "&Copy the last answer"))
    window.copy_answer_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_C))
    window.copy_answer_action.triggered.connect(window.copy_last_answer)
    chat_menu.addSeparator()
    export_md = chat_menu.addAction(QCoreApplication.translate("MainWindow", "Export as &Markdown…"))
    export_md.triggered.connect(lambda: window.conversations_controller.export_current("markdown"))
    export_json = chat_menu.addAction(QCoreApplication.translate("MainWindow", "Export as &JSON…"))
    export_json.triggered.connect(lambda: window.conversations_controller.export_current("json"))
    import_action = chat_menu.addAction(QCoreApplication.translate("MainWindow", "&Import from JSON…"))
    import_action.triggered.connect(window.conversations_controller.import_conversation)

    view_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&View"))
    window.panel_action = view_menu.addAction(QCoreApplication.translate("MainWindow", "&Decoding panel"))
    window.panel_action.setCheckable(True)
    window.panel_action.setChecked(window.ctx.settings.show_decoding_panel)
    window.panel_action.toggled.connect(window._toggle_panel)
    window.tokens_action = view_menu.addAction(QCoreApplication.translate("MainWindow", "&Tokenizer panel"))
    window.tokens_action.setCheckable(True)
    window.tokens_action.setChecked(window.ctx.settings.show_tokenizer_panel)
    window.tokens_action.toggled.connect(window._toggle_tokenizer_panel)

    tools_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Tools"))
    vocab_action = tools_menu.addAction(QCoreApplication.translate("MainWindow", "&Extend a vocabulary…"))
    vocab_action.triggered.connect(window.open_vocab_tool)
    hosts_action = tools_menu.addAction(QCoreApplication.translate("MainWindow", "Training &hosts (SSH)…"))
    hosts_action.triggered.connect(window.open_hosts)
    training_action = tools_menu.addAction(QCoreApplication.translate("MainWindow", "&Advanced: LoRA training…"))
    training_action.triggered.connect(window.open_training_tool)

    settings_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Settings"))
    language_menu = settings_menu.addMenu(QCoreApplication.translate("MainWindow", "&Language"))
    group = QActionGroup(window)
    window._language_actions: dict[str, QAction] = {}
    choices = [("system", QCoreApplication.translate("MainWindow", "System language"))] + list(LANGUAGES.items())
    for code, label in choices:
        action = QAction(label, window, checkable=True)
        action.setChecked(window.ctx.settings.language == code)
        action.triggered.connect(lambda _checked=False, c=code: window.set_language(c))
        group.addAction(action)
        language_menu.addAction(action)
        window._language_actions[code] = action
    appearance_menu = settings_menu.addMenu(QCoreApplication.translate("MainWindow", "&Appearance"))
    schemes = QActionGroup(window)
    window.colour_scheme_actions = {}
    scheme_names = {
        "system": QCoreApplication.translate("MainWindow", "System"),
        "light": QCoreApplication.translate("MainWindow", "Light"),
        "dark": QCoreApplication.translate("MainWindow", "Dark"),
    }
    for code in COLOUR_SCHEMES:
        action = QAction(scheme_names[code], window, checkable=True)
        action.setChecked(window.ctx.settings.colour_scheme == code)
        action.triggered.connect(lambda _checked=False, c=code: window.set_colour_scheme(c))
        schemes.addAction(action)
        appearance_menu.addAction(action)
        window.colour_scheme_actions[code] = action
    hub_settings = settings_menu.addAction(QCoreApplication.translate("MainWindow", "&Model hub…"))
    hub_settings.setShortcut(QKeySequence.StandardKey.Preferences)
    hub_settings.triggered.connect(window.hub_controller.open_settings)
    window.server_action = settings_menu.addAction(QCoreApplication.translate("MainWindow", "&Local server…"))
    window.server_action.triggered.connect(lambda: open_server_dialog(window.server_controller, window))

    help_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Help"))
    # The list of keys is the only help the app has, so the help key opens it.
    shortcuts = help_menu.addAction(QCoreApplication.translate("MainWindow", "&Keyboard shortcuts"))
    shortcuts.setShortcut(QKeySequence.StandardKey.HelpContents)
    shortcuts.triggered.connect(window.show_shortcuts)
    about = help_menu.addAction(QCoreApplication.translate("MainWindow", "&About Alpaca Desk"))
    about.triggered.connect(window.about)
