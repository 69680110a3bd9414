"""Refresh and fill the Simplified Chinese translation (assets/translations/alpaca_desk_zh_CN.ts).

Re-runnable: after ``tr()`` strings change in app/, run::

    .venv/bin/python tools/translate_zh.py            # lupdate, then fill from ZH below
    .venv/bin/python tools/translate_zh.py --check    # exit 1 if anything is left untranslated

1. ``pyside6-lupdate`` (the venv's) is run over every ``app/**/*.py`` (tracked or not) into the
   .ts file, with ``-no-obsolete``; existing translations are kept.
2. Every message that is unfinished or empty and whose source text is in :data:`ZH` gets that
   translation. A finished translation is never overwritten (so edits made in Qt Linguist or
   by hand win) unless ``--force`` is given.
3. What is still untranslated is listed: add it to :data:`ZH` (or translate it in Linguist).

Only the ``<translation>`` elements are rewritten; the rest of the file stays as lupdate wrote it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parent.parent
TS_FILE = REPO_ROOT / "assets" / "translations" / "alpaca_desk_zh_CN.ts"

# Source text -> translation. Keys are the exact English source strings of tr() in app/.
# Conventions: Chinese full-width punctuation inside Chinese text; placeholders ({0}, {name},
# %n), HTML tags and "\n" kept as in the source; menu accelerators as "模型(&M)"; "token" kept
# untranslated; 模型/对话/提示词/上下文长度 as the usual Chinese ML terms.
ZH: dict[str, str] = {
    # -- Banner, chat view, input --------------------------------------------------------------
    "Dismiss": "关闭",
    "Chinese-LLaMA: pre-training with LoRA": "Chinese-LLaMA：LoRA 预训练",
    "Chinese-LLaMA 7B, stage 1 of 2: input embeddings only": "Chinese-LLaMA 7B，两阶段中的第 1 阶段：只训练输入词嵌入",
    "Chinese-Alpaca: instruction fine-tuning with LoRA": "Chinese-Alpaca：LoRA 指令精调",
    "Chinese-LLaMA-2: pre-training with LoRA": "Chinese-LLaMA-2：LoRA 预训练",
    "Chinese-Alpaca-2: instruction fine-tuning with LoRA": "Chinese-Alpaca-2：LoRA 指令精调",
    "{path} cannot be used with the {pieces} pieces of the tokenizer.model beside it ({reason}). Put there the tokenizer.model and added_tokens.json that were saved together; training did not start.": "{path} 无法与旁边有 {pieces} 个词元的 tokenizer.model 一起使用（{reason}）。请放入一同保存的 tokenizer.model 和 added_tokens.json；训练未开始。",
    "{path} gives the added token {token} the id {id}, but the tokenizer.model beside it has {pieces} pieces, so the added tokens must take the ids from {pieces} on, in turn ({expected} here). The tokenizer files of that folder do not belong together: put there the tokenizer.model and added_tokens.json that were saved with its weights (or download or train them again). Nothing was merged.": "{path} 给新增 token {token} 的 id 是 {id}，但旁边的 tokenizer.model 有 {pieces} 个词元，新增 token 的 id 必须从 {pieces} 起依次排列（这里应为 {expected}）。该文件夹中的分词器文件不匹配：请放入与其权重一同保存的 tokenizer.model 和 added_tokens.json（或重新下载、重新训练）。未进行任何合并。",
    # -- Chat layout, code blocks, keyboard and screen readers (issue 26) -------------------------
    # Catalogue notes (context "Catalogue", app/catalogue_texts.py)
    "Llama 2 Community License (Meta) plus the Chinese-LLaMA-Alpaca-2 project's terms; the project's code is Apache-2.0. Commercial use is allowed within Llama 2's licence.": "Llama 2 社区许可协议（Meta）及 Chinese-LLaMA-Alpaca-2 项目条款；代码为 Apache-2.0。可在 Llama 2 许可范围内商用。",
    "LoRA weights only (Apache-2.0 code). Merging needs the original LLaMA weights from Meta, and the merged model inherits LLaMA's non-commercial research licence.": "仅含 LoRA 权重（代码为 Apache-2.0）。合并需要 Meta 原版 LLaMA 权重，合并后的模型沿用 LLaMA 的非商业研究许可。",
    "Message to send": "要发送的消息",
    "Conversation": "对话",
    "Answer finished: {0}": "回答完成：{0}",
    "The answer ended without any text.": "回答结束，没有任何文字。",
    "Copy this code": "复制这段代码",
    "Copy code": "复制代码",
    "Copied": "已复制",
    "Code": "代码",
    "The messages of the conversation shown, oldest first.": "当前对话的消息，最早的在前。",
    "Message": "消息",
    "Type a message. Enter sends it, Shift+Enter starts a new line, Esc stops an answer or cancels an edit.": "输入消息。Enter 发送，Shift+Enter 换行，Esc 停止回答或取消编辑。",
    "Send the message to the model (Enter).": "把消息发送给模型（Enter）。",
    "Stop the answer being written (Esc).": "停止正在生成的回答（Esc）。",
    "Saved conversations": "已保存的对话",
    "Decoding settings": "解码设置",
    "Tokenizer panel": "分词器面板",
    "Loading the model": "正在加载模型",
    "Context used": "已用上下文",
    "How much of the model's context window the conversation fills, in tokens.": "对话占用了模型上下文窗口的多少（以 token 计）。",
    "Answer speed": "回答速度",
    "How fast the last answer was written, in tokens per second.": "上一个回答的生成速度（每秒 token 数）。",
    "&Search conversations": "搜索对话(&S)",
    "&Write a message": "输入消息(&W)",
    "S&top the answer": "停止回答(&T)",
    "&Copy the last answer": "复制上一个回答(&C)",
    "&Keyboard shortcuts": "键盘快捷键(&K)",
    "There is no answer to copy yet.": "还没有可复制的回答。",
    "The last answer was copied.": "已复制上一个回答。",
    "Your message": "你的消息",
    "Answer": "回答",
    "The hub's address {host} cannot be resolved ({reason}), so {what} cannot be asked of it: this computer looks offline, or its name server blocks the hub. Turn on offline mode in Settings → Model hub to use only the models you have, or enter a mirror's address there.": "无法解析模型仓库的地址 {host}（{reason}），因此无法进行此操作（{what}）：这台电脑似乎已离线，或者它的域名服务器屏蔽了该仓库。可在“设置 → 模型仓库”中开启离线模式，只使用已有的模型，或在那里填写镜像地址。",
    "Keyboard shortcuts": "键盘快捷键",
    "Keys": "按键",
    "Action": "操作",
    "Menu": "菜单",
    "Each row: the keys, what they do, and the menu that has the action.": "每一行：按键、它的作用，以及包含该操作的菜单。",
    "Line {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.": "{path} 的第 {index} 行超过 {limit_mb} MB，远超一个训练序列所能容纳的长度，因此未读取。请缩短或删除这条记录后重新开始。",
    "Record {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.": "{path} 的第 {index} 条记录超过 {limit_mb} MB，远超一个训练序列所能容纳的长度，因此未读取。请缩短或删除这条记录后重新开始。",
    "Record {index} of {path} has a prompt (instruction and input) longer than the {block_size} tokens of a training sequence, so none of its answer can be learned. Shorten the instruction and input, or raise the block size.": "{path} 的第 {index} 条记录的提示词（指令和输入）超过一个训练序列的 {block_size} 个 token，其回答部分无法被学习。请缩短指令和输入，或增大块大小。",
    "{path}: {key} is {value}, not a number from {low} to {high}. The adapter's configuration is damaged: download or train the adapter again. Nothing was merged.": "{path}：{key} 的值为 {value}，不是 {low} 到 {high} 之间的数。适配器的配置已损坏：请重新下载或训练该适配器。未进行任何合并。",
    "{path} is a pickle that holds more than tensors ({what}); loading it could run code from the file, so it was not opened. Use the adapter saved as safetensors, or get it again from its publisher.": "{path} 是一个除张量外还包含其他内容（{what}）的 pickle 文件；加载它可能会运行文件中的代码，因此未打开。请使用以 safetensors 格式保存的适配器，或从发布者处重新获取。",
    "The adapter {adapter} holds no weights, so merging it would change nothing. Download or train the adapter again.": "适配器 {adapter} 不含任何权重，合并它不会改变模型。请重新下载或训练该适配器。",
    "Merging gives {tensor} values that are not finite numbers (inf or NaN), because of {path}. Nothing was written; use a sound adapter and base model.": "合并后 {tensor} 出现非有限数值（inf 或 NaN），原因在于 {path}。未写入任何文件；请使用完好的适配器和基础模型。",
    "{path}: {key} is {value}, not {expected}. Restore this file from the model's download or merge.": "{path}：{key} 的值为 {value}，不是{expected}。请从模型的下载或合并结果中恢复此文件。",
    "{path}: {key} is {value}, but the weights do not match it ({tensor}: {found}). Restore this file from the model's download or merge.": "{path}：{key} 的值为 {value}，但权重与之不符（{tensor}：{found}）。请从模型的下载或合并结果中恢复此文件。",
    "{path} is damaged: its header puts the tensors {tensor} and {other} on the same bytes. Copy or download this weight file again.": "{path} 已损坏：其文件头让张量 {tensor} 和 {other} 占用了相同的字节。请重新复制或下载此权重文件。",
    "{0} of {1}": "第 {0} 条，共 {1} 条",
    "Type a message. Enter sends, Shift+Enter starts a new line.": "输入消息。按 Enter 发送，Shift+Enter 换行。",
    "Open a model from the Model menu, then type a message below.": "请先从“模型”菜单打开模型，然后在下方输入消息。",
    "You": "你",
    "Assistant": "助手",
    "Copy": "复制",
    "Copy this message": "复制这条消息",
    "Edit": "编辑",
    "Edit this message and resend it": "编辑这条消息并重新发送",
    "Regenerate": "重新生成",
    "Write a new answer": "重新生成一个回答",
    # -- Conversation list ---------------------------------------------------------------------
    "Search conversations": "搜索对话",
    "Clear search": "清除搜索",
    "New chat": "新建对话",
    "Start a new conversation": "开始新对话",
    "Import…": "导入…",
    "Import a conversation from an Alpaca Desk JSON file": "从 Alpaca Desk 导出的 JSON 文件导入对话",
    "Conversations": "对话列表",
    "Untitled": "未命名",
    "{title}\nLast changed {when}": "{title}\n最后修改于 {when}",
    "No conversation matches the search.": "没有与搜索内容匹配的对话。",
    "No conversations yet.": "还没有对话。",
    "Rename": "重命名",
    "Export as Markdown…": "导出为 Markdown…",
    "Export as JSON…": "导出为 JSON…",
    "Delete…": "删除…",
    "Delete conversation": "删除对话",
    "Delete “{title}”? This cannot be undone.": "确定删除“{title}”吗？此操作无法撤销。",
    # -- Decoding panel ------------------------------------------------------------------------
    "Sampling": "采样",
    "Preset": "预设",
    "Settings from the Chinese-LLaMA paper: temperature 0.2 for single answers, 0.5 for multi-turn chat.": (
        "Chinese-LLaMA 论文中的设置：单轮问答温度 0.2，多轮对话温度 0.5。"
    ),
    "Single-turn (paper)": "单轮问答（论文）",
    "Multi-turn chat": "多轮对话",
    "Custom": "自定义",
    "Context size": "上下文长度",
    "How many tokens the model sees at once: the prompt, the earlier messages and the answer together. "
    "Larger contexts need more memory.": (
        "模型一次能看到的 token 数，包括提示词、之前的消息和回答。上下文越长，占用的内存越多。"
    ),
    "Max new tokens": "最大生成长度",
    "The longest answer, in tokens. It must be smaller than the context size.": (
        "回答的最大长度（以 token 计），必须小于上下文长度。"
    ),
    "Temperature": "温度",
    "Randomness of the answer: low values are focused and repeatable, high values more varied. "
    "0 always picks the most likely token.": (
        "回答的随机程度：值越低，回答越集中、越可复现；值越高，回答越多样。为 0 时总是选择概率最高的 token。"
    ),
    "Top-k": "Top-k",
    "Sample only from the k most likely tokens. 0 turns this limit off.": (
        "只从概率最高的 k 个 token 中采样。设为 0 表示不限制。"
    ),
    "Top-p": "Top-p",
    "Sample only from the most likely tokens whose probabilities add up to p (nucleus sampling). "
    "1 turns this limit off.": ("只从累计概率达到 p 的最可能的 token 中采样（核采样）。设为 1 表示不限制。"),
    "Repetition penalty": "重复惩罚",
    "Makes tokens that already appeared less likely, against loops. 1 means no penalty.": (
        "降低已出现过的 token 的概率，避免内容循环重复。设为 1 表示不惩罚。"
    ),
    "Random seed": "使用随机种子",
    "Use a new random seed for every answer. Untick it and choose a seed to get the same answer again "
    "for the same prompt and settings.": (
        "每次回答都使用新的随机种子。取消勾选并指定种子后，相同的提示词和设置会得到相同的回答。"
    ),
    "The seed used when Random seed is off.": "未勾选“使用随机种子”时所用的随机种子。",
    "Seed": "随机种子",
    "Reset to paper defaults": "恢复论文默认值",
    "Context 2048, 512 new tokens, temperature 0.2, top-k 40, top-p 0.9, repetition penalty 1.1, random seed.": (
        "上下文长度 2048，最多生成 512 个 token，温度 0.2，Top-k 40，Top-p 0.9，重复惩罚 1.1，随机种子。"
    ),
    "Template": "提示词模板",
    "How the conversation is written into the prompt.": "决定对话内容以何种格式写入提示词。",
    "Automatic (from the model)": "自动（根据模型）",
    "Automatic: {label}": "自动：{label}",
    "Chat template": "对话模板",
    "System prompt": "系统提示词",
    "Text the conversation starts with. Leave it empty to use the template's default.": (
        "放在对话开头的文本。留空则使用模板的默认系统提示词。"
    ),
    "No system prompt": "无系统提示词",
    "Prompt preview": "提示词预览",
    "The exact text the model reads for the next answer.": "模型生成下一条回答时实际读取的完整文本。",
    # -- Main window: menus --------------------------------------------------------------------
    "Alpaca Desk": "Alpaca Desk",
    "&Model": "模型(&M)",
    "&Open model file…": "打开模型文件(&O)…",
    "Recent models": "最近使用的模型",
    "(none yet)": "（暂无）",
    "&Unload model": "卸载模型(&U)",
    "&Quit": "退出(&Q)",
    "&Conversation": "对话(&C)",
    "&New conversation": "新建对话(&N)",
    "Export as &Markdown…": "导出为 Markdown(&M)…",
    "Export as &JSON…": "导出为 JSON(&J)…",
    "&Import from JSON…": "从 JSON 导入(&I)…",
    "&View": "视图(&V)",
    "&Decoding panel": "解码参数面板(&D)",
    "&Settings": "设置(&S)",
    "&Language": "语言(&L)",
    "{name} with a context of {n_ctx} tokens and an {kv} KV cache needs about {need_gb} GB of memory (weights {weights_gb} GB, KV cache {kv_gb} GB), and {free_gb} GB is free. Choose a smaller context, a q8_0 or q4_0 KV cache, or a smaller model, or close other programs.": "{name} 在 {n_ctx} 个词元的上下文和 {kv} KV 缓存下约需 {need_gb} GB 内存（权重 {weights_gb} GB，KV 缓存 {kv_gb} GB），而可用内存只有 {free_gb} GB。请选择更小的上下文、q8_0 或 q4_0 KV 缓存或更小的模型，或关闭其他程序。",
    "The KV cache type {kv} is not one of {known}. Choose one of them.": "KV 缓存类型 {kv} 不在 {known} 之中。请从中选择一种。",
    "&Appearance": "外观(&A)",
    "System": "跟随系统",
    "Light": "浅色",
    "Dark": "深色",
    "System language": "跟随系统",
    "&Help": "帮助(&H)",
    "&About Alpaca Desk": "关于 Alpaca Desk(&A)",
    # -- Main window: status, models -----------------------------------------------------------
    "Send": "发送",
    "Stop": "停止",
    "No model loaded": "未加载模型",
    "Cancel loading": "取消加载",
    "Loading cancelled. No model loaded": "已取消加载。未加载模型",
    "Open a GGUF model": "打开 GGUF 模型",
    "GGUF models (*.gguf);;All files (*)": "GGUF 模型 (*.gguf);;所有文件 (*)",
    "Loading {0}…": "正在加载 {0}…",
    "{name} · {params} · {quant} · vocabulary {vocab}": "{name} · {params} · {quant} · 词表 {vocab}",
    "Context {0} / {1}": "上下文 {0} / {1}",
    "{0:.1f} tokens/s": "{0:.1f} token/秒",
    "{0} tokens": "{0} 个 token",
    "Type a message below to start.": "在下方输入消息即可开始。",
    "Restart and reload the model": "重启并重新加载模型",
    "The model process stopped unexpectedly. Your conversation is safe.\n{0}": (
        "模型进程意外退出，你的对话不会丢失。\n{0}"
    ),
    "The context size {0} takes effect when the model is loaded again.": "上下文长度 {0} 将在重新加载模型后生效。",
    "Reload now": "立即重新加载",
    # -- Main window: conversations ------------------------------------------------------------
    "Your conversation file could not be opened and was left untouched; new chats go to a new file. "
    "Details: {0}": "无法打开对话记录文件（原文件未做任何改动），新的对话将保存到新文件中。详情：{0}",
    "Stop the answer before deleting this conversation.": "请先停止生成回答，再删除此对话。",
    "There is no conversation to export yet.": "还没有可导出的对话。",
    "Export conversation": "导出对话",
    "Markdown (*.md)": "Markdown 文件 (*.md)",
    "JSON (*.json)": "JSON 文件 (*.json)",
    "Could not export to {0}: {1}": "无法导出到 {0}：{1}",
    "Exported to {0}": "已导出到 {0}",
    "Import conversation": "导入对话",
    "{0} is not a readable JSON file ({1}). Choose a file exported by Alpaca Desk.": (
        "{0} 不是可读取的 JSON 文件（{1}）。请选择由 Alpaca Desk 导出的文件。"
    ),
    # -- Main window: chatting -----------------------------------------------------------------
    "No model is loaded. Open a GGUF model file from the Model menu first; your message is kept.": (
        "尚未加载模型。请先从“模型”菜单打开 GGUF 模型文件；你的消息已保留。"
    ),
    "Editing an earlier message: Send replaces it and the messages after it. Esc cancels.": (
        "正在编辑之前的消息：点击“发送”将替换这条消息及其后的所有消息。按 Esc 取消。"
    ),
    "writing…": "生成中…",
    "interrupted (the app closed while it was written)": "已中断（生成过程中应用被关闭）",
    "stopped": "已停止",
    "failed": "失败",
    # Plural (numerus) message: Chinese has a single form.
    "%n earlier turn(s) left out to fit the context": "为适应上下文长度，省略了较早的 %n 轮对话",
    "The answer stopped because the context window is full. Start a new conversation or raise the context size.": (
        "上下文窗口已满，回答已停止。请新建对话或增大上下文长度。"
    ),
    "Stop the answer before switching the language.": "请先停止生成回答，再切换语言。",
    "About Alpaca Desk": "关于 Alpaca Desk",
    "<b>Alpaca Desk</b> {0}<br>Chat offline with Chinese-LLaMA and Chinese-Alpaca models "
    "(Cui, Yang and Yao, arXiv 2304.08177) through llama.cpp.<br><br>"
    "Your conversations stay on this computer: nothing is sent anywhere.": (
        "<b>Alpaca Desk</b> {0}<br>通过 llama.cpp 离线使用 Chinese-LLaMA 和 Chinese-Alpaca 模型对话"
        "（Cui、Yang 和 Yao，arXiv 2304.08177）。<br><br>"
        "你的对话只保存在这台电脑上，不会发送到任何地方。"
    ),
    "Chinese-Alpaca (v1, Plus, Pro)": "Chinese-Alpaca（v1、Plus、Pro）",
    "Stanford-Alpaca instruction format used to fine-tune Chinese-Alpaca, Chinese-Alpaca-Plus and -Pro (vocabulary of 49,954 pieces).": "Chinese-Alpaca、Chinese-Alpaca-Plus 和 -Pro 精调所用的 Stanford-Alpaca 指令格式（词表 49,954）。",
    "Chinese-Alpaca-2 (Llama-2 chat)": "Chinese-Alpaca-2（Llama-2 对话格式）",
    "Llama-2 chat format ([INST] ... [/INST]) used by Chinese-Alpaca-2 (vocabulary of 55,296 pieces).": "Chinese-Alpaca-2 使用的 Llama-2 对话格式（[INST] ... [/INST]），词表 55,296。",
    "Raw text (base models)": "纯文本续写（基座模型）",
    "No template: the text is continued as written. For base models such as Chinese-LLaMA and Chinese-LLaMA-2, which were never trained to follow instructions.": "不使用模板：直接续写输入的文本。适用于 Chinese-LLaMA、Chinese-LLaMA-2 等未经指令精调的基座模型。",
    "Model file's template (Jinja)": "模型文件自带的模板（Jinja）",
    "The chat template stored in the GGUF file (tokenizer.chat_template), rendered in a sandbox. For models that are not Chinese-LLaMA or Chinese-Alpaca.": "GGUF 文件中保存的对话模板（tokenizer.chat_template），在沙箱中渲染。适用于 Chinese-LLaMA / Chinese-Alpaca 以外的模型。",
    "Model file not found: {path}. Check the path, or choose another file.": "找不到模型文件：{path}。请检查路径，或选择其他文件。",
    "{path} is a folder, not a model file. Choose the .gguf file inside it (a Hugging Face folder must first be converted to GGUF).": "{path} 是一个文件夹，不是模型文件。请选择其中的 .gguf 文件（Hugging Face 格式的文件夹需要先转换为 GGUF）。",
    "Cannot read {path}: {reason}. Check the file's permissions.": "无法读取 {path}：{reason}。请检查文件权限。",
    "{name} is empty (0 bytes). Download the model again.": "{name} 是空文件（0 字节）。请重新下载模型。",
    "{name} is an old {format} model file (the format llama.cpp used before August 2023), which llama.cpp no longer reads. Download the GGUF version of this model, or convert the original weights to GGUF.": "{name} 是旧的 {format} 格式模型文件（llama.cpp 在 2023 年 8 月之前使用的格式），llama.cpp 已不再支持。请下载该模型的 GGUF 版本，或将原始权重转换为 GGUF。",
    "{name} is not a GGUF model file (it does not start with the GGUF signature). Choose a .gguf file.": "{name} 不是 GGUF 模型文件（文件开头没有 GGUF 标识）。请选择 .gguf 文件。",
    "{name} looks like GGUF but its header cannot be read. The file is probably truncated or damaged: download it again and compare its size or SHA-256 with the source.": "{name} 看起来是 GGUF 文件，但无法读取文件头。文件可能不完整或已损坏：请重新下载，并核对文件大小或 SHA-256。",
    "{name} is truncated: its tensors need {need} bytes but the file has {have}. The download probably stopped early: download it again.": "{name} 不完整：张量需要 {need} 字节，但文件只有 {have} 字节。下载可能中途停止了，请重新下载。",
    "{name} is damaged or unusual: {field} {problem}. Alpaca Desk cannot use this file: download it again and compare its size or SHA-256 with the source, or choose another model.": "{name} 已损坏或格式异常：元数据 {field} 的值无法使用（{problem}）。Alpaca Desk 无法使用此文件：请重新下载，并将文件大小或 SHA-256 与来源核对，或选择其他模型。",
    "llama.cpp could not load {name} (architecture '{arch}'). The file may be damaged or use an architecture this llama.cpp does not support: download it again, or choose another model.": "llama.cpp 无法加载 {name}（架构“{arch}”）。文件可能已损坏，或使用了当前 llama.cpp 不支持的架构：请重新下载，或选择其他模型。",
    "No model is loaded. Open a GGUF model file first.": "尚未加载模型。请先打开一个 GGUF 模型文件。",
    "The message needs {n_tokens} prompt tokens and the answer up to {max_tokens} new tokens, but the context holds only {n_ctx} tokens, even with all earlier messages left out. Shorten the message, lower max new tokens, or raise the context size.": "即使省略所有较早的消息，这条消息仍需要 {n_tokens} 个提示词 token，回答最多 {max_tokens} 个新 token，但上下文只能容纳 {n_ctx} 个 token。请缩短消息、降低最大生成长度，或增大上下文长度。",
    "&Tokenizer panel": "分词器面板(&T)",
    "The {label} tokenizer is not on this computer (the copy Alpaca Desk ships is missing: reinstall to get it back). Add it by opening its tokenizer.model file (or a GGUF model that uses it), or fetch it from the Hugging Face hub ({repo}).": "本机没有 {label} 分词器（Alpaca Desk 自带的副本不见了：重新安装即可恢复）。请打开它的 tokenizer.model 文件（或使用它的 GGUF 模型）来添加，或从 Hugging Face Hub（{repo}）获取。",
    "No tokenizer at {path}: the file does not exist. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.": "{path} 处没有分词器：文件不存在。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。",
    "{path} is empty, so it is not a tokenizer. Choose a tokenizer.model file or a GGUF model.": "{path} 是空文件，不是分词器。请选择 tokenizer.model 文件或 GGUF 模型。",
    "{path} is not a SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.": "{path} 不是 SentencePiece 分词器。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。",
    "{path} is {size_mb} MB, far larger than any tokenizer. Choose a tokenizer.model file.": "{path} 有 {size_mb} MB，远大于任何分词器。请选择 tokenizer.model 文件。",
    "{path} could not be opened as a tokenizer. Choose a tokenizer.model file or a GGUF model.": "无法将 {path} 作为分词器打开。请选择 tokenizer.model 文件或 GGUF 模型。",
    "{path} has no vocabulary, so it cannot count tokens. Choose the tokenizer.model that belongs to this model instead.": "{path} 不含词表，无法统计 token。请改为选择该模型对应的 tokenizer.model。",
    "Tokenizers": "分词器",
    "Add…": "添加…",
    "Compare with another tokenizer": "与另一个分词器比较",
    "Tokenizer": "分词器",
    "Tokens": "token 数",
    "Chars/token": "字符/token",
    "Bytes": "字节片段",
    "Ratio": "比例",
    "Pieces like <0xE5> that spell a character byte by byte because the vocabulary lacks it": "词表中没有该字符时，用 <0xE5> 这类字节片段逐字节拼出它",
    "Tokens relative to the first tokenizer": "相对于第一个分词器的 token 数",
    "Pieces of:": "切分结果：",
    "Type or paste text in the message box to see its tokens.": "在消息框中输入或粘贴文本，即可查看它的 token。",
    "Counts exclude the beginning-of-text token <s> that a prompt adds once.": "统计不含提示词开头添加一次的起始 token <s>。",
    "This conversation's prompt (template included): {0} of {1} tokens, as the model counts.": "本对话的提示词（含模板）：按模型分词为 {0} / {1} 个 token。",
    "Showing the first {0} of {1} characters; the counts cover all of them.": "仅显示前 {0} 个字符（共 {1} 个）；统计涵盖全部文本。",
    "A {n_ctx}-token context holds about {a} characters of this kind of text under {first} and {b} under {second}.": "{n_ctx} 个 token 的上下文，按 {first} 约可容纳 {a} 个此类文本的字符，按 {second} 约可容纳 {b} 个。",
    "Original LLaMA (32,000)": "原版 LLaMA（32,000）",
    "Chinese-LLaMA (49,953)": "Chinese-LLaMA（49,953）",
    "Chinese-LLaMA-2 (55,296)": "Chinese-LLaMA-2（55,296）",
    "The loaded model's vocabulary": "已加载模型的词表",
    "From a file (tokenizer.model, folder or GGUF)…": "从文件添加（tokenizer.model、文件夹或 GGUF）…",
    "Choose a tokenizer": "选择分词器",
    "Tokenizers (*.model *.gguf tokenizer_config.json);;All files (*)": "分词器 (*.model *.gguf tokenizer_config.json);;所有文件 (*)",
    "Remove from the comparison": "从比较中移除",
    "&Tools": "工具(&T)",
    "&Extend a vocabulary…": "扩充词表(&E)…",
    "Extend a vocabulary": "扩充词表",
    "Chinese-LLaMA extends LLaMA's 32,000 pieces with 20,000 pieces learned from Chinese text (paper section 4.2), so Chinese needs about half the tokens. Do the same with your corpus: a SentencePiece model is trained on it and its new pieces are appended to the base tokenizer.": "Chinese-LLaMA 在 LLaMA 的 32,000 个词元之外，加入了从中文文本学到的 20,000 个词元（论文第 4.2 节），中文所需的 token 因此减少约一半。你也可以用自己的语料这样做：先在语料上训练一个 SentencePiece 模型，再把其中的新词元追加到基础分词器中。",
    "UTF-8 text, one sentence or paragraph per line": "UTF-8 文本，每行一句或一段",
    "Pieces of the new SentencePiece model (the paper used 20,000).": "新 SentencePiece 模型的词元数（论文使用 20,000）。",
    "The tokenizer to extend: 'llama' for the original LLaMA tokenizer, or a tokenizer.model file.": "要扩充的分词器：填 'llama' 表示原版 LLaMA 分词器，或填一个 tokenizer.model 文件。",
    "Optional: merge this .model instead of training one": "可选：直接合并这个 .model，而不重新训练",
    "Add a pad token (Chinese-Alpaca: 49,954 pieces)": "添加 pad token（Chinese-Alpaca：49,954 个词元）",
    "Chinese-Alpaca's vocabulary is Chinese-LLaMA's plus one pad token added for instruction fine-tuning. A model's embedding matrix has exactly one row per piece, so a LLaMA tokenizer must go with LLaMA weights and an Alpaca tokenizer with Alpaca weights: mixing them breaks merging and conversion.": "Chinese-Alpaca 的词表是 Chinese-LLaMA 的词表加上指令精调时添加的一个 pad token。模型的词嵌入矩阵每个词元正好一行，所以 LLaMA 分词器必须配 LLaMA 权重，Alpaca 分词器必须配 Alpaca 权重：混用会导致合并和转换失败。",
    "Folder for the new tokenizer": "新分词器的保存文件夹",
    "Corpus": "语料",
    "New pieces": "新词元数",
    "Base tokenizer": "基础分词器",
    "Existing model": "已有模型",
    "Output folder": "输出文件夹",
    "The report appears here.": "报告将显示在这里。",
    "Train and merge": "训练并合并",
    "Cancel": "取消",
    "Close": "关闭",
    "Browse…": "浏览…",
    "Choose a corpus": "选择语料",
    "Text (*.txt);;All (*)": "文本 (*.txt);;所有文件 (*)",
    "Choose the base tokenizer": "选择基础分词器",
    "Choose a SentencePiece model": "选择 SentencePiece 模型",
    "Choose the output folder": "选择输出文件夹",
    "Choose a corpus to train on, or an existing SentencePiece model to merge.": "请选择用于训练的语料，或一个要合并的已有 SentencePiece 模型。",
    "The corpus {0} does not exist.": "语料 {0} 不存在。",
    "Choose an output folder.": "请选择输出文件夹。",
    "The output folder {0} is not empty; choose a new one.": "输出文件夹 {0} 不是空的，请选择一个新文件夹。",
    "Starting": "正在启动",
    "Reading the corpus": "正在读取语料",
    "Normalizing": "正在规范化",
    "Learning pieces": "正在学习词元",
    "Saving": "正在保存",
    "Writing the tokenizer": "正在写入分词器",
    "Loading": "正在加载",
    "Merging": "正在合并",
    "Counting tokens": "正在统计 token",
    "Done": "完成",
    "Cancelled; nothing was written.": "已取消，未写入任何文件。",
    "Trained {0:,} pieces on {1:,} lines in {2} s.": "已在 {1:,} 行语料上训练出 {0:,} 个词元，用时 {2} 秒。",
    "The newly trained model: {0}": "新训练的模型：{0}",
    "Base tokenizer: {0:,} pieces. Pieces added: {1:,}. Final size: {2:,}.": "基础分词器：{0:,} 个词元。新增：{1:,} 个。合并后：{2:,} 个。",
    "A pad token was added: {0}.": "已添加 pad token：{0}。",
    "On {0:,} characters of the corpus: {1:,} tokens before, {2:,} after ({3:.0%}).": "在 {0:,} 个语料字符上：合并前 {1:,} 个 token，合并后 {2:,} 个（{3:.0%}）。",
    "Written to {0}": "已写入 {0}",
    "Failed": "失败",
    "Optional: a GGUF file or model folder to check the size against": "可选：用于核对大小的 GGUF 文件或模型文件夹",
    "The merged vocabulary must have exactly as many pieces as the model's embedding has rows; the report warns when they differ.": "合并后的词表大小必须与模型词嵌入矩阵的行数完全相同；两者不一致时报告会给出警告。",
    "For the model": "目标模型",
    "Choose the model": "选择模型",
    "GGUF models (*.gguf);;config.json (config.json)": "GGUF 模型 (*.gguf);;config.json (config.json)",
    "The model's embedding has {0:,} rows: the sizes match.": "模型的词嵌入有 {0:,} 行：大小一致。",
    "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. Chinese-LLaMA (49,953) and Chinese-Alpaca (49,954: the same vocabulary plus a pad token) must not be mixed: merging LoRA weights or converting the model fails. Use the tokenizer that came with these weights.": "分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行。Chinese-LLaMA（49,953）与 Chinese-Alpaca（49,954：同一词表加一个 pad token）不能混用：合并 LoRA 权重或转换模型会失败。请使用与这些权重配套的分词器。",
    "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows: the original LLaMA vocabulary (32,000) against the extended Chinese one (49,953, or 49,954 for Alpaca). Mixing them breaks merging and conversion.": "分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行：这是原版 LLaMA 词表（32,000）与扩充后的中文词表（49,953，Alpaca 为 49,954）的混用，会导致合并和转换失败。",
    "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. They must be equal for merging and conversion; use the tokenizer that belongs to these weights.": "分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行。合并和转换要求两者相等，请使用与这些权重配套的分词器。",
    "Open a tokenizer file…": "打开分词器文件…",
    "Fetch it from the Hugging Face hub": "从 Hugging Face Hub 获取",
    "Cannot import {path}: it is {size_mib} MiB, and imports are limited to {limit_mib} MiB. Export the conversation in parts, or choose another file.": "无法导入 {path}：文件大小为 {size_mib} MiB，导入上限为 {limit_mib} MiB。请分段导出对话，或选择其他文件。",
    "Cannot read {path}: {detail}. Check the file and try again.": "无法读取 {path}：{detail}。请检查文件后重试。",
    "Show {0} earlier messages": "显示更早的 {0} 条消息",
    "Threads": "线程数",
    "Automatic": "自动",
    "Automatic ({0} in use)": "自动（当前 {0} 个）",
    "CPU threads that decode. Automatic measures which count is fastest and uses one thread while other programs keep the processor busy.": "用于解码的 CPU 线程数。“自动”会实测哪个线程数最快，并在其他程序占用处理器时只用一个线程。",
    "computer busy (load {0:.1f} on {1} cores)": "电脑繁忙（{1} 核负载 {0:.1f}）",
    "computer busy (other programs used {0:.1f} of {1} cores)": "电脑繁忙（其他程序占用了 {1} 核中的 {0:.1f} 核）",
    "Third-party licences…": "第三方许可证…",
    "Third-party licences": "第三方许可证",
    "No model is loaded. Open a GGUF model file from the Model menu first.": "尚未加载模型。请先从“模型”菜单打开一个 GGUF 模型文件。",
    "Something went wrong inside Alpaca Desk ({0}). Please report it.": "Alpaca Desk 内部出错（{0}）。请报告此问题。",
    "… {0:,} more characters not shown; Copy copies the whole message.": "… 另有 {0:,} 个字符未显示；“复制”会复制整条消息。",
    "The corpus {path} does not exist or cannot be read. Choose a UTF-8 text file.": "语料 {path} 不存在或无法读取。请选择 UTF-8 文本文件。",
    "The corpus {path} is empty. Choose a UTF-8 text file with the text to learn from.": "语料 {path} 是空的。请选择包含训练文本的 UTF-8 文本文件。",
    "A vocabulary of {size} pieces is too small for {path}: its characters alone need {required}. Choose a larger size, or lower the character coverage.": "{size} 个词元的词表对 {path} 来说太小：仅其中的字符就需要 {required} 个。请选择更大的词表，或降低字符覆盖率。",
    "{path} is too small for a vocabulary of {size} pieces: at most {largest} can be learned from it. Choose a smaller size, or use a larger corpus.": "{path} 太小，学不出 {size} 个词元：最多只能学到 {largest} 个。请选择更小的词表，或使用更大的语料。",
    "Training a vocabulary on {path} failed: {detail}": "在 {path} 上训练词表失败：{detail}",
    "There is no known tokenizer with that name. Choose a tokenizer.model file instead.": "没有这个名称的已知分词器。请改为选择 tokenizer.model 文件。",
    "{path} has {size} pieces, not the {expected} of the {label} tokenizer; it was not used. Open the right tokenizer.model file instead.": "{path} 有 {size} 个词元，而不是 {label} 分词器的 {expected} 个，因此未使用。请打开正确的 tokenizer.model 文件。",
    "The folder {path} has no tokenizer.model. Choose a folder that holds one, or the tokenizer.model or GGUF file itself.": "文件夹 {path} 中没有 tokenizer.model。请选择包含它的文件夹，或直接选择 tokenizer.model 或 GGUF 文件。",
    "Could not fetch the {label} tokenizer from the Hugging Face hub ({repo}). Check the connection and try again, or open its tokenizer.model file.": "无法从 Hugging Face Hub（{repo}）获取 {label} 分词器。请检查网络后重试，或打开它的 tokenizer.model 文件。",
    "Cannot read {path}. Check the file's permissions.": "无法读取 {path}。请检查文件权限。",
    "{path} is not a usable SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.": "{path} 不是可用的 SentencePiece 分词器。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。",
    "{path} is not a readable GGUF file; it may be truncated. Download it again, or choose a tokenizer.model file.": "{path} 不是可读的 GGUF 文件，可能不完整。请重新下载，或选择 tokenizer.model 文件。",
    "{path} has a {kind} vocabulary; only SentencePiece vocabularies (as in LLaMA and Chinese-LLaMA/Alpaca) can be compared here. Choose a tokenizer.model file.": "{path} 使用 {kind} 词表；这里只能比较 SentencePiece 词表（如 LLaMA 和 Chinese-LLaMA/Alpaca）。请选择 tokenizer.model 文件。",
    "The background job ended unexpectedly; the file it was working on was removed. Try again; if it happens again, see the log.": "后台任务意外结束，正在写入的文件已删除。请重试；若再次发生，请查看日志。",
    "The vocabulary size of {path} cannot be found. Choose a GGUF file or a Hugging Face model folder with a config.json.": "无法确定 {path} 的词表大小。请选择 GGUF 文件，或含 config.json 的 Hugging Face 模型文件夹。",
    "{path} is a folder, not a tokenizer file. Choose the tokenizer.model inside it, or a GGUF model.": "{path} 是文件夹，不是分词器文件。请选择其中的 tokenizer.model，或一个 GGUF 模型。",
    "Alpaca Desk is already running with this data folder. Switch to its window.": "Alpaca Desk 已在使用此数据文件夹运行。请切换到它的窗口。",
    "The conversation database {path} is damaged or is not an Alpaca Desk database ({detail}). Restart Alpaca Desk: it keeps the damaged file aside, starts a new one and offers to recover the messages that can still be read.": "对话数据库 {path} 已损坏，或不是 Alpaca Desk 的数据库（{detail}）。请重启 Alpaca Desk：它会把损坏的文件另外保留，新建一个数据库，并提供恢复仍可读取的消息。",
    # -- Hostile and broken inputs: settings, a damaged database, read-only folders ----------------
    "The conversation database {path} is damaged ({detail}). It was kept as {kept} and new chats go to a new file in its place. Recover its messages to copy what can still be read.": "对话数据库 {path} 已损坏（{detail}）。它已另存为 {kept}，新的对话会写入原位置的新文件。可以恢复其中的消息，把仍可读取的内容复制过来。",
    "The damaged conversation database {path} does not exist any more; nothing to recover.": "损坏的对话数据库 {path} 已不存在，没有可恢复的内容。",
    'The setting "{name}" had the value {value}, which is not valid; the default {default} is used.': "设置“{name}”的值 {value} 无效，已改用默认值 {default}。",
    'The setting "{name}" had entries that are not file paths ({value}); they were left out.': "设置“{name}”中有不是文件路径的条目（{value}），已将其略去。",
    "The settings file {path} could not be read ({reason}). It was kept as {kept} and the default settings are used.": "无法读取设置文件 {path}（{reason}）。它已另存为 {kept}，现使用默认设置。",
    "{path} was not read: it is larger than the {limit} bytes such a file may have. Replace it with a good copy, or remove it.": "未读取 {path}：它超过了此类文件允许的 {limit} 字节。请换成完好的副本，或将其删除。",
    "{path} was not read: it is nested more than {limit} levels deep, which a real one never is. Replace it with a good copy, or remove it.": "未读取 {path}：它的嵌套超过 {limit} 层，正常的此类文件不会如此。请换成完好的副本，或将其删除。",
    "{path} was not read: it is not JSON ({detail}). Replace it with a good copy, or remove it.": "未读取 {path}：它不是 JSON（{detail}）。请换成完好的副本，或将其删除。",
    "The download queue {path} could not be read ({reason}). It was kept as {kept}; start the downloads that were waiting again from the model hub.": "无法读取下载队列 {path}（{reason}）。它已另存为 {kept}；请从模型库重新开始之前等待中的下载。",
    "The settings file {path} could not be read ({reason}) and could not be moved aside ({error}); the default settings are used.": "无法读取设置文件 {path}（{reason}），也无法将其另存（{error}）；现使用默认设置。",
    "The log folder {path} cannot be written ({reason}); Alpaca Desk runs without a log file.": "无法写入日志文件夹 {path}（{reason}）；Alpaca Desk 将在没有日志文件的情况下运行。",
    "Alpaca Desk cannot use the folder {path}: {reason}. Make the folder writable (or move away the file in its place), or start Alpaca Desk with --data-dir pointing to a folder you can write to.": "Alpaca Desk 无法使用文件夹 {path}：{reason}。请将该文件夹改为可写（或移走占据其位置的文件），或用 --data-dir 指向一个可写的文件夹启动 Alpaca Desk。",
    "Recover messages": "恢复消息",
    "Recovering the messages that can still be read from {0}…": "正在从 {0} 恢复仍可读取的消息…",
    "Recovered {0} messages in {1} conversations from {2}. The file stays where it is.": "已从 {2} 恢复 {1} 个对话中的 {0} 条消息。该文件保留在原处。",
    "No message could be read from {0}. The file stays where it is.": "无法从 {0} 读取任何消息。该文件保留在原处。",
    "The disk holding the conversation database {path} is full. Free some space and try again; nothing was lost.": "对话数据库 {path} 所在的磁盘已满。请释放一些空间后重试；没有丢失任何内容。",
    "The conversation database {path} or its folder is read-only. Make them writable, or start Alpaca Desk with --data-dir elsewhere.": "对话数据库 {path} 或其所在文件夹是只读的。请将其改为可写，或用 --data-dir 指定其他位置启动 Alpaca Desk。",
    "Another program is using the conversation database {path}. Close it and try again.": "另一个程序正在使用对话数据库 {path}。请关闭它后重试。",
    "The conversation database {path} cannot be opened. Check that it is a file you may read and write, or start Alpaca Desk with --data-dir elsewhere.": "无法打开对话数据库 {path}。请确认它是可读写的文件，或用 --data-dir 指定其他位置启动 Alpaca Desk。",
    "The disk reported an error while using the conversation database {path}. Check the drive and free space, then try again.": "使用对话数据库 {path} 时磁盘报错。请检查磁盘和剩余空间后重试。",
    "The conversation database {path} reported an error ({detail}). Try again; if it keeps happening, restart Alpaca Desk.": "对话数据库 {path} 报错（{detail}）。请重试；如果反复出现，请重启 Alpaca Desk。",
    "The conversation database {path} was written by a newer Alpaca Desk. Update Alpaca Desk, or start it with --data-dir pointing to another folder.": "对话数据库 {path} 由更新版本的 Alpaca Desk 写入。请更新 Alpaca Desk，或用 --data-dir 指向其他文件夹启动。",
    "Cannot import this file: {problem}. Choose a file made with Alpaca Desk's JSON export.": "无法导入此文件：{problem}。请选择 Alpaca Desk 导出的 JSON 文件。",
    "Cannot import this file: it was exported by a newer Alpaca Desk (format version {version}). Update Alpaca Desk to import it.": "无法导入此文件：它由更新版本的 Alpaca Desk 导出（格式版本 {version}）。请更新 Alpaca Desk 后再导入。",
    "Model: {0}": "模型：{0}",
    "Template: {0}": "模板：{0}",
    "Temperature {0}, top-k {1}, top-p {2}, repetition penalty {3}, context {4}": "温度 {0}，Top-k {1}，Top-p {2}，重复惩罚 {3}，上下文 {4}",
    "Seed: {0}": "随机种子：{0}",
    "Prompt {0} tokens, answer {1} tokens, first token after {2:.0f} ms": "提示词 {0} 个 token，回答 {1} 个 token，首个 token 用时 {2:.0f} 毫秒",
    # -- Chat templates from model files (the template sandbox) --------------------------------
    "The model file has no embedded chat template; choose another chat template in the decoding panel.": "模型文件中没有内置的对话模板；请在解码参数面板中选择其他对话模板。",
    "The chat template inside {name} was refused: it is larger than {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：它大于 {limit_kib} KiB。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: syntax error on line {line}: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：第 {line} 行有语法错误：{detail}。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: it tried something the sandbox forbids ({detail}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：它试图执行沙箱禁止的操作（{detail}）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: rendering it took longer than {seconds} s. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：渲染用时超过 {seconds} 秒。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: its output grew past {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：它的输出超过了 {limit_kib} KiB。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：它的输出或中间值超出了内存上限（{limit_mib} MiB）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB) and ended the sandbox process ({how}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "已拒绝 {name} 内置的对话模板：它的输出或中间值超出了内存上限（{limit_mib} MiB），导致沙箱进程终止（{how}）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The chat template inside {name} failed: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).": "{name} 内置的对话模板渲染失败：{detail}。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。",
    "The process that renders model files' chat templates could not start ({how}); see the log. Choose a built-in chat template in the decoding panel meanwhile.": "渲染模型文件对话模板的进程无法启动（{how}），请查看日志。在此期间请在解码参数面板中选择一个内置对话模板。",
    # -- SSH hosts and remote runs (runtime/training/remote) -----------------------------------
    "Uploading the job: {done} of {total}": "正在上传任务：{done} / {total}",
    "connection lost; reconnecting (the run goes on)": "连接中断，正在重新连接（训练仍在继续）",
    "re-attached": "已重新连接",
    "Run {job} on {host}: {phase}": "{host} 上的运行 {job}：{phase}",
    "Downloading the adapter of run {job}…": "正在下载运行 {job} 的适配器…",
    "The adapter was downloaded to {path} ({size}).": "适配器已下载到 {path}（{size}）。",
    "Download adapter": "下载适配器",
    "Download the finished run's adapter from its SSH host": "从 SSH 主机下载已完成运行的适配器",
    "Run {job} runs on this computer, in the process that started it; see `alpaca-desk train status {job}`.": "运行 {job} 在这台电脑上、由启动它的进程执行；请查看 `alpaca-desk train status {job}`。",
    "The job on {name} ended without a word (the host restarted, or its processes were killed).": "{name} 上的任务未留下任何消息就结束了（主机重启，或其进程被终止）。",
    "{name} lacks: {missing}.": "{name} 缺少：{missing}。",
    "A host called {name} is already saved; choose another name or remove it first.": "已保存名为 {name} 的主机；请换一个名称，或先删除它。",
    "Host {name}: {field} {reason}.": "主机 {name}：{field} {reason}。",
    "No saved host is called {name}. Add it in Training hosts.": "没有名为 {name} 的已保存主机。请在“训练主机”中添加。",
    "The saved SSH hosts file {path} {reason}; no hosts were loaded. It was kept aside.": "已保存的 SSH 主机文件 {path} {reason}；未载入任何主机。该文件已另存保留。",
    "The known-hosts file {path} is not one Alpaca Desk wrote. Move it away and accept the host keys again.": "已知主机文件 {path} 不是 Alpaca Desk 写入的。请将其移走，然后重新接受主机密钥。",
    "A command on {name} failed: {reason}.": "在 {name} 上执行命令失败：{reason}。",
    "Cannot download {path} from {name}: {reason}.": "无法从 {name} 下载 {path}：{reason}。",
    "{path} is missing from this installation, so no job can be started on a host. Reinstall Alpaca Desk.": "本安装中缺少 {path}，因此无法在主机上启动任务。请重新安装 Alpaca Desk。",
    "{name} has no room for the job: {path} has {free} MB free and the job needs {needed} MB more. Free some space there, or give the host another jobs folder, then start the run again.": "{name} 没有空间存放该任务：{path} 只剩 {free} MB，而任务还需要 {needed} MB。请在那里腾出空间，或为该主机另选一个任务文件夹，然后重新启动运行。",
    "Downloading the adapter of run {job}: {done} of {size}": "正在下载运行 {job} 的适配器：{done} / {size}",
    "There is no remote run {job}, or its folder on the host is gone.": "没有远程运行 {job}，或它在主机上的文件夹已不存在。",
    "The remote run {job} was started already ({state}).": "远程运行 {job} 已经启动过（{state}）。",
    "{name} has no usable Python at {python} ({found}). Install Python 3.8 or newer there, or set the host's Python to its full path.": "{name} 上的 {python} 不是可用的 Python（{found}）。请在该主机上安装 Python 3.8 或更高版本，或将主机的 Python 设置为其完整路径。",
    "The remote job cannot be sent: {reason}.": "无法发送远程任务：{reason}。",
    "The job could not start on {name}: {reason}.": "任务无法在 {name} 上启动：{reason}。",
    "Uploading the job to {name} failed: {reason}. Check the free space and permissions of {path} on the host, then start it again.": "向 {name} 上传任务失败：{reason}。请检查主机上 {path} 的剩余空间和权限，然后重新启动。",
    "{name} refused the login as {user}. Check the user name, that the public key is in ~/.ssh/authorized_keys on the host, and the passphrase.": "{name} 拒绝以 {user} 身份登录。请检查用户名、主机上 ~/.ssh/authorized_keys 中是否有该公钥，以及密钥口令。",
    "{name} did not finish {action} within {seconds} s.": "{name} 未在 {seconds} 秒内完成操作（{action}）。",
    "Cannot connect to {name} at {address}:{port}: {reason}. Check the address and port, and that the host is on and reachable.": "无法连接到 {name}（{address}:{port}）：{reason}。请检查地址和端口，并确认主机已开机且可以访问。",
    "The connection to {name} was lost while {action}.": "与 {name} 的连接中断（正在进行：{action}）。",
    "The host key to accept for {name} cannot be read.": "无法读取要为 {name} 接受的主机密钥。",
    "The host key of {name} ({address}:{port}) has changed: it is now {fingerprint}. Someone may be intercepting the connection, or the host was reinstalled. Nothing was sent. If the administrator confirms the new key, forget the old one and accept the new one.": "{name}（{address}:{port}）的主机密钥已改变：现在是 {fingerprint}。可能有人在拦截连接，或主机已重装。未发送任何内容。如果管理员确认了新密钥，请先忘记旧密钥，再接受新密钥。",
    "{name} presents the key {fingerprint}, not {expected}; nothing was accepted.": "{name} 出示的密钥是 {fingerprint}，而不是 {expected}；未接受任何密钥。",
    "The host key of {name} ({address}:{port}) is not known yet. Its fingerprint is {fingerprint}. Compare it with the one the host's administrator gives and accept it only if they match.": "尚不认识 {name}（{address}:{port}）的主机密钥。其指纹为 {fingerprint}。请与主机管理员提供的指纹核对，只有一致时才接受。",
    "The key file {path} of {name} cannot be used: {reason}. Choose another key file in the host's settings.": "无法使用 {name} 的密钥文件 {path}：{reason}。请在主机设置中选择其他密钥文件。",
    "The key file {path} of {name} is protected by a passphrase: enter it.": "{name} 的密钥文件 {path} 受口令保护：请输入口令。",
    "A host called {0} is already saved; choose another name or remove it first.": "已保存名为 {0} 的主机；请换一个名称，或先删除它。",
    "Cannot save the hosts: {0}": "无法保存主机列表：{0}",
    "The test failed: {0}": "测试失败：{0}",
    "Training hosts": "训练主机",
    "New": "新建",
    "Remove": "删除",
    "Saved hosts": "已保存的主机",
    "e.g. lab A100": "例如：实验室 A100",
    "host name or IP address": "主机名或 IP 地址",
    "empty: the SSH agent's keys": "留空：使用 SSH agent 中的密钥",
    "Also use the SSH agent's keys": "同时使用 SSH agent 中的密钥",
    "The Python on the host that runs the jobs (a name on its PATH or a full path).": "主机上运行任务的 Python（PATH 中的名称或完整路径）。",
    "Where job folders go on the host (relative: in the login folder).": "任务文件夹在主机上的位置（相对路径：位于登录目录下）。",
    "only if the key has one; never saved in a file": "仅当密钥有口令时填写；绝不保存到文件",
    "Remember the passphrase in the system keyring": "在系统钥匙串中记住口令",
    "Name:": "名称：",
    "Address:": "地址：",
    "Port:": "端口：",
    "User:": "用户：",
    "Key file:": "密钥文件：",
    "Python on the host:": "主机上的 Python：",
    "Jobs folder on the host:": "主机上的任务文件夹：",
    "Key passphrase:": "密钥口令：",
    "Save": "保存",
    "Test connection": "测试连接",
    "Accept this key and test": "接受此密钥并测试",
    "Do not connect": "不连接",
    "Test a host to see its GPUs, Python and free disk.": "测试主机以查看其 GPU、Python 和剩余磁盘空间。",
    "Connecting to {0}…": "正在连接 {0}…",
    "<b>{0}</b> ({1}:{2}) presents a host key this computer has not seen before:<br><br><tt>{3}</tt> ({4})<br><br>Compare this fingerprint with the one the host's administrator gives (<tt>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</tt> on the host). Accept it only if they match: nothing else is sent until you do.": "<b>{0}</b>（{1}:{2}）出示了一个本机从未见过的主机密钥：<br><br><tt>{3}</tt>（{4}）<br><br>请将此指纹与主机管理员提供的指纹核对（在主机上运行 <tt>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</tt>）。只有一致时才接受：在你接受之前不会发送任何其他内容。",
    "Waiting for you to check the host key of {0}.": "等待你核对 {0} 的主机密钥。",
    "Connected to {0} ({1}).": "已连接到 {0}（{1}）。",
    "GPUs:": "GPU：",
    "GPUs: none found (nvidia-smi is missing or lists none).": "GPU：未找到（没有 nvidia-smi，或它未列出任何 GPU）。",
    "Python: {0}": "Python：{0}",
    "Python: none usable at {0}.": "Python：{0} 不可用。",
    "Free disk in {0}: {1:.1f} GB": "{0} 的剩余磁盘空间：{1:.1f} GB",
    "Python 3.8 or newer on the host": "主机上的 Python 3.8 或更高版本",
    "the training packages {0} (pip install 'alpaca-desk[train]' on the host)": "训练所需的软件包 {0}（在主机上运行 pip install 'alpaca-desk[train]'）",
    "a CUDA GPU": "CUDA GPU",
    "free disk: at least 10 GB is advised": "磁盘空间：建议至少 10 GB",
    "Missing:": "缺少：",
    "Ready to train.": "可以开始训练。",
    "Choose a private key file": "选择私钥文件",
    "Training &hosts (SSH)…": "训练主机(SSH)(&H)…",
    # -- Model hub: catalogue, downloads, settings (issue 11) ----------------------------------------
    "Offline mode is on: turn it off in Settings → Model hub to download.": "离线模式已开启：请在“设置 → 模型库”中关闭后再下载。",
    "Offline mode is on: this is the catalogue shipped with Alpaca Desk ({0}); sizes are estimates. Nothing is sent anywhere.": "离线模式已开启：这是 Alpaca Desk 自带的模型目录（{0}），大小为估算值。不会向任何地方发送数据。",
    "The hub could not be asked, so this is the shipped catalogue ({0}): {1}": "无法访问模型库，因此显示自带的模型目录（{0}）：{1}",
    "The Chinese-LLaMA / Chinese-Alpaca family on {0}. A model's file list and sizes are asked of the hub when you choose it.": "{0} 上的 Chinese-LLaMA / Chinese-Alpaca 系列。选中某个模型时才会向模型库查询其文件列表和大小。",
    "{0} file(s)": "{0} 个文件",
    "★ Recommended for this computer ({0} memory, {1} free): {2}, file {3}.": "★ 推荐给这台电脑（内存 {0}，可用磁盘 {1}）：{2}，文件 {3}。",
    "instruct": "指令",
    "base": "基座",
    "GGUF": "GGUF",
    "full weights": "完整权重",
    "LoRA, needs merge": "LoRA，需合并",
    "{role} · gen {gen}{params}{variant} · {fmt}": "{role} · 第 {gen} 代{params}{variant} · {fmt}",
    "Ready to chat: download one file (a quantization level).": "可直接对话：下载其中一个文件（一种量化级别）即可。",
    "Full Hugging Face weights: after the download, the convert wizard makes a GGUF file with the quantization recommended for this computer.": "完整的 Hugging Face 权重：下载后，转换向导会按这台电脑推荐的量化级别生成 GGUF 文件。",
    "First-generation LoRA weights: they need the original LLaMA weights from Meta and a merge before they can be converted and used.": "第一代 LoRA 权重：需要 Meta 原版 LLaMA 权重并先合并，才能转换和使用。",
    "Sizes from the hub.": "大小来自模型库。",
    "Sizes are the snapshot's estimates.": "大小为目录快照中的估算值。",
    "<b>{repo}</b><br>{kind}<br>{what}<br>Context: {ctx} tokens · Template: {template}<br>Licence: {licence}<br><i>{sizes}</i>": "<b>{repo}</b><br>{kind}<br>{what}<br>上下文长度：{ctx} 个 token · 模板：{template}<br>许可：{licence}<br><i>{sizes}</i>",
    "yes": "是",
    "(every file of the repository)": "（仓库中的全部文件）",
    "Download": "下载",
    "Download all files": "下载全部文件",
    "Verifying…": "正在校验…",
    "Nothing of this model is on disk.": "磁盘上没有这个模型的文件。",
    "Damaged or missing: {0}. Download them again.": "已损坏或缺失：{0}。请重新下载。",
    "{0} file(s) checked: each matches the hub's SHA-256.": "已校验 {0} 个文件：均与模型库的 SHA-256 一致。",
    "See the repository's page on the hub.": "请查看该仓库在模型库上的页面。",
    "Waiting": "等待中",
    "Downloading {0}: {1}%": "正在下载 {0}：{1}%",
    "Paused": "已暂停",
    "Verified": "已校验",
    "every file": "全部文件",
    "The weights are in {0}. Converting them to GGUF comes with the convert wizard.": "权重位于 {0}。转换为 GGUF 的功能将随转换向导提供。",
    "Get models": "获取模型",
    "Find any GGUF model on the hub by name": "按名称在模型库中查找任意 GGUF 模型",
    "Search the hub": "搜索模型库",
    "Hub settings…": "模型库设置…",
    "Model": "模型",
    "Kind": "类型",
    "Size": "大小",
    "Context": "上下文",
    "On disk": "已在磁盘上",
    "File": "文件",
    "Quantization": "量化",
    "Memory": "内存",
    "Verify files on disk": "校验磁盘上的文件",
    "Progress": "进度",
    "Speed": "速度",
    "Time left": "剩余时间",
    "State": "状态",
    "Pause": "暂停",
    "Resume": "继续",
    "Chat with it": "用它对话",
    "<b>Downloads</b>": "<b>下载</b>",
    "Convert to GGUF…": "转换为 GGUF…",
    "Open the merged model in the convert-and-quantize wizard": "在转换与量化向导中打开合并后的模型",
    "Model hub settings": "模型库设置",
    "https://huggingface.co, or a mirror such as https://hf-mirror.com. Applied at once.": "https://huggingface.co，或镜像站点如 https://hf-mirror.com。立即生效。",
    "Empty: the system's proxy settings": "留空：使用系统代理设置",
    "Only for gated models; empty keeps the saved token": "仅用于需授权的模型；留空则保留已保存的令牌",
    "Remove the token saved for this hub": "删除为此模型库保存的令牌",
    "The token is kept by the operating system's keyring, never in a file, and is sent only to the hub address it was saved for.": "令牌保存在操作系统的密钥环中，绝不写入文件，并且只会发送给保存时对应的模型库地址。",
    "Offline mode: make no network connection at all": "离线模式：完全不建立任何网络连接",
    "Hub address": "模型库地址",
    "Proxy": "代理",
    "Access token": "访问令牌",
    "Models folder": "模型文件夹",
    "No request has been made.": "尚未发出任何请求。",
    "<b>Network log</b>: every request Alpaca Desk made (newest last)": "<b>网络日志</b>：Alpaca Desk 发出的每个请求（最新的在最后）",
    "&Get models…": "获取模型(&G)…",
    "&Model hub…": "模型库(&M)…",
    "No model is installed yet. Get a Chinese-Alpaca model for this computer from the catalogue.": "尚未安装任何模型。请从模型目录中为这台电脑获取一个 Chinese-Alpaca 模型。",
    "Get models…": "获取模型…",
    "The hub address {endpoint} is not an http:// or https:// address of a server. Enter one like https://huggingface.co, or a mirror's address.": "模型库地址 {endpoint} 不是 http:// 或 https:// 服务器地址。请输入如 https://huggingface.co 的地址或镜像站点地址。",
    "Offline mode is on, so nothing was asked of the hub. Turn offline mode off in Settings → Model hub to download models or refresh the catalogue.": "离线模式已开启，因此没有向模型库发送任何请求。要下载模型或刷新目录，请在“设置 → 模型库”中关闭离线模式。",
    "{repo} is gated on {endpoint}: accept its licence on the hub's page, then save an access token for this hub in Settings → Model hub.": "{repo} 在 {endpoint} 上需要授权：请先在模型库页面上接受其许可协议，然后在“设置 → 模型库”中为此模型库保存访问令牌。",
    "{repo} was not found on {endpoint}. Check the name, or the hub address in Settings → Model hub.": "在 {endpoint} 上找不到 {repo}。请检查名称，或“设置 → 模型库”中的模型库地址。",
    "The hub {endpoint} could not be reached for {repo}: {detail}. Check the network, the proxy and the hub address in Settings → Model hub, or try a mirror.": "无法连接模型库 {endpoint} 获取 {repo}：{detail}。请检查网络、代理和“设置 → 模型库”中的地址，或改用镜像站点。",
    "The hub {endpoint} answered with a file list for {repo} that cannot be read. Try again later, or another hub address.": "模型库 {endpoint} 返回的 {repo} 文件列表无法读取。请稍后重试，或换一个模型库地址。",
    "The run's output folder {folder} is outside Alpaca Desk's data folder {data} and was not chosen here; it is not used. Choose the folder yourself, or leave it empty and the run's own folder is used.": "训练的输出文件夹 {folder} 不在 Alpaca Desk 的数据文件夹 {data} 之内，且不是在这里选择的，因此不会使用。请自行选择文件夹，或留空以使用该训练自己的文件夹。",
    "The job specification {path} names the output folder {folder}, outside Alpaca Desk's data folder {data}; a folder named inside a spec file is not used without your word. To write there, name it on the command line (--out {folder}); or remove output_dir from the spec and the run's own folder is used.": "任务规格 {path} 指定的输出文件夹 {folder} 不在 Alpaca Desk 的数据文件夹 {data} 之内；规格文件中写明的文件夹未经你确认不会使用。若要写入该处，请在命令行中指定（--out {folder}）；或从规格中删除 output_dir，将使用该训练自己的文件夹。",
    "The hub {endpoint} kept sending the list for {repo} with no end ({reason}); it was stopped. Try again later, or another hub address.": "模型库 {endpoint} 返回的 {repo} 列表没有尽头（{reason}），已停止读取。请稍后重试，或换一个模型库地址。",
    "The access token could not be saved: this computer has no usable keyring ({detail}). Alpaca Desk never writes tokens to a plain file; install a keyring service (GNOME Keyring, KWallet) to save one.": "无法保存访问令牌：这台电脑没有可用的密钥环（{detail}）。Alpaca Desk 绝不把令牌写入普通文件；请安装密钥环服务（GNOME Keyring、KWallet）后再保存。",
    "That access token is not one: a hub token is a single word of letters and digits.": "这不是有效的访问令牌：模型库令牌是由字母和数字组成的一个词。",
    "{repo} is not a repository name: write it as ORGANISATION/NAME, e.g. hfl/chinese-alpaca-2-7b-gguf.": "{repo} 不是仓库名称：请写成“组织/名称”，例如 hfl/chinese-alpaca-2-7b-gguf。",
    "The hub listed a file named {name}, which would be written outside the model's folder. It was refused; nothing was written. Check the hub address in Settings → Model hub.": "模型库列出了名为 {name} 的文件，它会被写到模型文件夹之外。已拒绝，没有写入任何内容。请检查“设置 → 模型库”中的地址。",
    "{repo} has no file {name}. Refresh the catalogue and choose one of its files.": "{repo} 中没有文件 {name}。请刷新目录并选择其中的文件。",
    "The hub gave no checksum for {name}, so it could not be verified and was not downloaded. Try again later or another hub address.": "模型库没有提供 {name} 的校验和，无法校验，因此没有下载。请稍后重试或换一个模型库地址。",
    "The model catalogue cannot be read ({reason}). Reinstall Alpaca Desk to restore it.": "无法读取模型目录（{reason}）。请重新安装 Alpaca Desk 以恢复它。",
    "The hub refused {name} (HTTP {status}). If the model is gated, accept its licence on the hub and save an access token for this hub in Settings → Model hub.": "模型库拒绝了 {name}（HTTP {status}）。如果该模型需要授权，请在模型库上接受其许可协议，并在“设置 → 模型库”中为此模型库保存访问令牌。",
    "The download of {name} failed repeatedly ({reason}). The {kept} already downloaded are kept and the next try resumes from there: check the network or the proxy, or try a mirror in Settings → Model hub.": "{name} 的下载多次失败（{reason}）。已下载的 {kept} 会保留，下次会从那里继续：请检查网络或代理，或在“设置 → 模型库”中改用镜像站点。",
    "{name} could not be written to {path} ({reason}). Check the models folder's permissions.": "无法把 {name} 写入 {path}（{reason}）。请检查模型文件夹的权限。",
    "{name} does not have the {size} bytes the hub announced; it was removed. Try again later or another hub address.": "{name} 的大小与模型库声明的 {size} 字节不符，已删除。请稍后重试或换一个模型库地址。",
    "Checksum mismatch: {name} is not the file the hub describes. The damaged file was removed; download it again.": "校验和不匹配：{name} 与模型库描述的文件不一致。损坏的文件已删除，请重新下载。",
    "The disk is full: {name} stopped after {kept}. What was downloaded is kept; free some space (or choose another models folder) and resume.": "磁盘已满：{name} 在下载 {kept} 后停止。已下载的部分会保留；请释放空间（或选择其他模型文件夹）后继续。",
    "Not enough disk space for {name}: it needs {needed} and {folder} has {free} free. Free some space or choose another models folder in Settings → Model hub.": "磁盘空间不足以下载 {name}：需要 {needed}，而 {folder} 只有 {free} 可用。请释放空间，或在“设置 → 模型库”中选择其他模型文件夹。",
    "{path} does not exist. Give the path of a downloaded model file or its folder.": "{path} 不存在。请提供已下载的模型文件或其文件夹的路径。",
    # -- Convert and quantize (issue 10) --------------------------------------------------------
    "Convert and quantize my weights": "转换并量化我的权重",
    "&Convert and quantize my weights…": "转换并量化我的权重(&C)…",
    "Back": "上一步",
    "Next": "下一步",
    "Choose the folder the merge script wrote: a Hugging Face folder (config.json, *.safetensors or pytorch_model*.bin, tokenizer.model) or Meta's layout (consolidated.*.pth, params.json, tokenizer.model). It is checked before anything is written.": "请选择合并脚本输出的文件夹：Hugging Face 格式（config.json、*.safetensors 或 pytorch_model*.bin、tokenizer.model），或 Meta 的格式（consolidated.*.pth、params.json、tokenizer.model）。写入任何文件之前会先检查它。",
    "Checkpoint folder": "权重文件夹",
    "Check the folder": "检查文件夹",
    "F16 (16-bit, the usual)": "F16（16 位，常用）",
    "BF16 (16-bit, the training type)": "BF16（16 位，训练时的类型）",
    "F32 (32-bit, exact)": "F32（32 位，无损）",
    "All cores": "全部核心",
    "Automatic (from the name and vocabulary)": "自动（根据名称和词表）",
    "None (a base model)": "无（基础模型）",
    "Converted file": "转换后的文件",
    "Quantized files": "量化后的文件",
    "Make a quantization report": "生成量化报告",
    "Convert": "转换",
    "Choose the checkpoint folder": "选择权重文件夹",
    "Checking {0}…": "正在检查 {0}…",
    "Hugging Face, safetensors": "Hugging Face，safetensors",
    "Hugging Face, PyTorch .bin": "Hugging Face，PyTorch .bin",
    "Meta's consolidated.*.pth": "Meta 的 consolidated.*.pth",
    "matches the tokenizer": "与分词器一致",
    "does NOT match the tokenizer": "与分词器不一致",
    "Format: {0}": "格式：{0}",
    "Architecture: {0}": "架构：{0}",
    "Parameters: {0:,}": "参数量：{0:,}",
    "Layers: {0}; hidden size: {1}; attention heads: {2} ({3} key/value)": "层数：{0}；隐藏层大小：{1}；注意力头：{2}（键/值 {3}）",
    "Vocabulary: {0}, {1} ({2:,} pieces)": "词表：{0}，{1}（{2:,} 个词元）",
    "Weights: {0}, {1} in all": "权重：{0}，共 {1}",
    "Chat template: {0}": "对话模板：{0}",
    "Problems (nothing will be written until they are fixed):": "问题（修正之前不会写入任何文件）：",
    "No problems found.": "未发现问题。",
    "Not enough space: the files need about {0}, and {1} has {2} free.": "空间不足：这些文件约需 {0}，而 {1} 只有 {2} 可用。",
    "The files need about {0}; there is enough free space.": "这些文件约需 {0}；可用空间足够。",
    "Converting to {0}": "转换为 {0}",
    "Quantizing to {0}": "量化为 {0}",
    "waiting": "等待中",
    "Cancelling…": "正在取消…",
    "{0} elapsed": "已用 {0}",
    ", about {0} left": "，约剩 {0}",
    "done: {0} in {1}": "完成：{0}，用时 {1}",
    "Done. The files are in {0}.": "完成。文件在 {0} 中。",
    "Cancelled; the file in progress was removed.": "已取消；未完成的文件已删除。",
    "{folder} is not a folder. Choose the folder the merge script wrote.": "{folder} 不是文件夹。请选择合并脚本输出的文件夹。",
    "{folder} holds no model checkpoint: no config.json (Hugging Face) and no params.json with consolidated.*.pth (Meta's layout). Choose the folder the merge script wrote.": "{folder} 中没有模型权重：既没有 config.json（Hugging Face），也没有 params.json 和 consolidated.*.pth（Meta 的格式）。请选择合并脚本输出的文件夹。",
    "{folder} has a config.json but no weights (model*.safetensors or pytorch_model*.bin). Copy the weight files into it.": "{folder} 中有 config.json 但没有权重（model*.safetensors 或 pytorch_model*.bin）。请把权重文件复制进去。",
    "This folder holds a {architecture} model; only LLaMA models (LlamaForCausalLM) such as Chinese-LLaMA and Chinese-Alpaca can be converted here.": "该文件夹中是 {architecture} 模型；这里只能转换 LLaMA 模型（LlamaForCausalLM），例如 Chinese-LLaMA 和 Chinese-Alpaca。",
    "{path} asks for code shipped with the model (auto_map / trust_remote_code). Alpaca Desk never runs code from a model folder; only plain LlamaForCausalLM checkpoints are converted.": "{path} 要求运行模型附带的代码（auto_map / trust_remote_code）。Alpaca Desk 从不运行模型文件夹中的代码；只转换普通的 LlamaForCausalLM 权重。",
    "{folder} has no usable tokenizer.model. Copy the tokenizer that came with these weights into the folder (for Chinese-LLaMA/Alpaca: the merged Chinese tokenizer).": "{folder} 中没有可用的 tokenizer.model。请把这些权重附带的分词器复制到该文件夹（Chinese-LLaMA/Alpaca 使用合并后的中文分词器）。",
    "The tokenizer has {tokenizer} pieces but the weights have {rows} embedding rows: they do not belong together. Use the tokenizer that came with these weights (Alpaca's for Alpaca, LLaMA's for LLaMA). Nothing was converted.": "分词器有 {tokenizer} 个词元，但权重的嵌入矩阵有 {rows} 行：二者不匹配。请使用这些权重附带的分词器（Alpaca 用 Alpaca 的，LLaMA 用 LLaMA 的）。没有进行任何转换。",
    "Weight files of this checkpoint are missing or do not belong together. Copy the complete folder again.": "该权重的部分文件缺失或彼此不匹配。请重新复制完整的文件夹。",
    "{path} is cut off or damaged. Copy or download this weight file again.": "{path} 不完整或已损坏。请重新复制或下载这个权重文件。",
    "{path} holds more than tensors: loading it would run code from the file, which Alpaca Desk never does. Use weights saved as safetensors, or from a source you trust.": "{path} 中不只有张量：加载它会运行文件中的代码，Alpaca Desk 从不这样做。请使用保存为 safetensors 的权重，或来自可信来源的权重。",
    "This checkpoint is stored as PyTorch pickles (.bin/.pth), which need PyTorch, and PyTorch is not installed here. Save the model as safetensors, or convert it with the command line where PyTorch is installed.": "该权重以 PyTorch pickle（.bin/.pth）保存，读取需要 PyTorch，而这里没有安装 PyTorch。请把模型保存为 safetensors，或在安装了 PyTorch 的环境中用命令行转换。",
    "A configuration file of this checkpoint is damaged or does not belong to it. Restore the folder from the model's download or merge.": "该权重的某个配置文件已损坏或不属于它。请从模型的下载或合并结果恢复该文件夹。",
    "The weights hold a tensor that a LLaMA model in float32, float16 or bfloat16 does not have; this checkpoint cannot be converted.": "权重中有 float32、float16 或 bfloat16 的 LLaMA 模型不应有的张量；无法转换该权重。",
    "{path} uses RoPE scaling, which this converter does not write. Use llama.cpp's convert_hf_to_gguf.py for this model.": "{path} 使用了 RoPE 缩放，本转换器不支持。请用 llama.cpp 的 convert_hf_to_gguf.py 转换该模型。",
    "Unknown output type {outtype}; choose f16, bf16 or f32.": "未知的输出类型 {outtype}；请选择 f16、bf16 或 f32。",
    "Unknown template {template}; choose auto, raw, chinese-alpaca or chinese-alpaca-2.": "未知的模板 {template}；请选择 auto、raw、chinese-alpaca 或 chinese-alpaca-2。",
    "{folder} has {free_size} free, but the output needs about {needed_size}. Free some space or choose another folder; nothing was written.": "{folder} 只有 {free_size} 可用，而输出约需 {needed_size}。请释放空间或选择其他文件夹；没有写入任何文件。",
    "{path} is a symbolic link that leads back to itself (a loop), not a model file. Choose the model file itself, or fix the link.": "{path} 是一个指回自身的符号链接（循环），不是模型文件。请选择模型文件本身，或修复这个链接。",
    "{path} is not a regular file (a named pipe, a device or a socket cannot be a model). Choose a .gguf model file.": "{path} 不是普通文件（命名管道、设备或套接字不能作为模型）。请选择一个 .gguf 模型文件。",
    "llama.cpp stopped on {name} with a failed check ({assertion}) and ended the {job} job. The file is damaged or unusual: download it again, or choose another model.": "llama.cpp 处理 {name} 时检查失败（{assertion}），{job} 任务已终止。该文件已损坏或不寻常：请重新下载，或选择其他模型。",
    "Cannot use the folder {path}: {reason}. Choose another output folder.": "无法使用文件夹 {path}：{reason}。请选择其他输出文件夹。",
    "The disk that holds {folder} filled up while {name} was quantized to {type}: {free_size} is free, and the file needs about {needed_size}. Free some space or choose another folder, then quantize again; the unfinished file was removed.": "将 {name} 量化为 {type} 时，{folder} 所在的磁盘已满：可用空间为 {free_size}，而该文件约需 {needed_size}。请释放空间或选择其他文件夹后重新量化；未完成的文件已删除。",
    "Cannot write {path}: {detail}. Choose another output folder.": "无法写入 {path}：{detail}。请选择其他输出文件夹。",
    "Unknown quantization type {type}; choose one of the types offered.": "未知的量化类型 {type}；请从提供的类型中选择。",
    "{path} is not a folder.": "{path} 不是文件夹。",
    "llama.cpp could not quantize {path} to {type}:\n{log}": "llama.cpp 无法把 {path} 量化为 {type}：\n{log}",
    "{path} is too large for the report; choose a text under 64 MiB.": "{path} 太大，无法用于报告；请选择小于 64 MiB 的文本。",
    "The text has {tokens} tokens for this model; the perplexity needs at least {needed} (two windows). Use a longer text or a smaller context.": "对该模型而言，这段文本只有 {tokens} 个 token；计算困惑度至少需要 {needed} 个（两个窗口）。请使用更长的文本或更小的上下文。",
    "Cannot read the text {path}. Choose a UTF-8 text file.": "无法读取文本 {path}。请选择 UTF-8 文本文件。",
    "Quantization report": "量化报告",
    "Perplexity is computed as llama.cpp's llama-perplexity does: windows of the context size, the loss over the second half of each. Lower is better; compare files of the same model only.": "困惑度的计算方式与 llama.cpp 的 llama-perplexity 相同：按上下文长度切分窗口，只计每个窗口后半部分的损失。越低越好；只比较同一模型的文件。",
    "The bundled Chinese sample": "内置的中文样本",
    "Files": "文件",
    "Text": "文本",
    "Type": "类型",
    "Bits/weight": "每权重位数",
    "Perplexity": "困惑度",
    "Tokens/s": "token/秒",
    "Make the report": "生成报告",
    "Export CSV…": "导出 CSV…",
    "Export CSV": "导出 CSV",
    "Choose a text": "选择文本",
    "Text (*.txt);;All files (*)": "文本 (*.txt);;所有文件 (*)",
    "Perplexity {0}": "困惑度 {0}",
    "Speed {0}": "速度 {0}",
    "Perplexity over windows of {0} tokens of {1}.": "困惑度按 {1} 中 {0} 个 token 的窗口计算。",
    "Cancelled.": "已取消。",
    # -- Training (issue 12): errors --
    "The training recipe is not valid: {field}: {reason}.": "训练配置无效：{field}：{reason}。",
    "Cannot read the job specification {path}: {reason}.": "无法读取任务配置 {path}：{reason}。",
    "The job specification {path} is not valid: {field}: {reason}.": "任务配置 {path} 无效：{field}：{reason}。",
    "Training needs {packages} in the Python that runs it ({python}). Install them with: {command} (or train on a GPU host that has them).": "训练需要在运行它的 Python（{python}）中安装 {packages}。安装命令：{command}（或在已安装它们的 GPU 主机上训练）。",
    "No CUDA GPU was found; training needs one (only the tiny test configurations run on the CPU). Use a computer with an NVIDIA GPU, or a remote GPU host.": "未找到 CUDA GPU；训练需要 GPU（只有微型测试配置可以在 CPU 上运行）。请使用带 NVIDIA GPU 的计算机，或远程 GPU 主机。",
    "Run {job} has no adapter yet ({path} is missing): it has not finished.": "运行 {job} 还没有适配器（缺少 {path}）：它尚未完成。",
    "No training run {job}. The list of runs is in the Advanced window and in `alpaca-desk train status`.": "没有训练运行 {job}。运行列表见“高级”窗口或 `alpaca-desk train status`。",
    "The record of run {job} ({path}) is damaged; its folder can be deleted.": "运行 {job} 的记录（{path}）已损坏；可以删除它的文件夹。",
    "The process that ran it is gone (the app or command that started it was closed or killed).": "运行它的进程已不存在（启动它的应用或命令已被关闭或终止）。",
    "Run {job} runs on {target}; stop it from the Advanced window.": "运行 {job} 在 {target} 上进行；请在“高级”窗口中停止它。",
    "Run {job} is not running ({state}).": "运行 {job} 未在进行（{state}）。",
    "The dataset {path} is too large ({size} bytes; the limit is 2 GB). Split it into several files in one folder.": "数据集 {path} 太大（{size} 字节；上限为 2 GB）。请把它拆分为同一文件夹中的多个文件。",
    "Cannot read the dataset {path}: {reason}.": "无法读取数据集 {path}：{reason}。",
    "The dataset {path} holds no records (pre-training reads UTF-8 .txt files; instruction data is JSON).": "数据集 {path} 中没有记录（预训练读取 UTF-8 .txt 文件；指令数据为 JSON）。",
    'Record {index} of {path} {reason}. Instruction data is a JSON array (or JSON lines) of objects with "instruction", optional "input", and "output" strings.': '{path} 的第 {index} 条记录：{reason}。指令数据应为 JSON 数组（或 JSON lines），每个对象包含字符串 "instruction"、可选的 "input" 和 "output"。',
    "{path} is not valid JSON (line {line}). Instruction data is a JSON array, or one JSON object per line.": "{path} 不是有效的 JSON（第 {line} 行）。指令数据应为 JSON 数组，或每行一个 JSON 对象。",
    "The dataset {path} gives no training sequence of {block_size} tokens; use more text or a smaller block size.": "数据集 {path} 凑不出一个 {block_size} 个 token 的训练序列；请使用更多文本或更小的块大小。",
    "Precision {precision} needs a CUDA GPU; use fp32 (or Automatic) for a tiny test on the CPU.": "精度 {precision} 需要 CUDA GPU；在 CPU 上做微型测试请使用 fp32（或“自动”）。",
    "The model has {parameters} parameters; a tiny test on the CPU allows {limit}. Train real models on a CUDA GPU.": "该模型有 {parameters} 个参数；CPU 上的微型测试最多允许 {limit} 个。请在 CUDA GPU 上训练真实模型。",
    "The recipe asks for DeepSpeed ({config}) but it is not installed: pip install deepspeed.": "配置要求使用 DeepSpeed（{config}），但尚未安装：pip install deepspeed。",
    "The {job} run failed: {detail}. The log ({log}) has details.": "{job} 运行失败：{detail}。详情见日志（{log}）。",
    "Cannot read {path} ({what}): {reason}.": "无法读取 {path}（{what}）：{reason}。",
    "{path} is a {kind} adapter; only plain LoRA adapters can be merged here (use peft's merge_and_unload for the others).": "{path} 是 {kind} 适配器；这里只能合并普通 LoRA 适配器（其他类型请使用 peft 的 merge_and_unload）。",
    "{path} holds no model weights (model.safetensors, pytorch_model.bin or a sharded index). Give the base model's Hugging Face folder.": "{path} 中没有模型权重（model.safetensors、pytorch_model.bin 或分片索引）。请选择基础模型的 Hugging Face 文件夹。",
    "The adapter {adapter} does not fit this base model ({tensor}): it was trained for another model.": "适配器 {adapter} 与该基础模型不匹配（{tensor}）：它是为另一个模型训练的。",
    "The adapters resize the vocabulary to {rows} rows but carry no tokenizer.model. Put the adapter's tokenizer in its folder.": "适配器把词表调整为 {rows} 行，但没有附带 tokenizer.model。请把适配器的分词器放进它的文件夹。",
    "Give at least one LoRA adapter to merge.": "请至少提供一个要合并的 LoRA 适配器。",
    "{path} exists already; choose a new folder for the merged model.": "{path} 已存在；请为合并后的模型选择一个新文件夹。",
    # -- Training (issue 12): the Advanced window --
    "The loss appears here once the run reports.": "运行开始报告后，这里会显示损失。",
    "loss (solid), learning rate (dashed) by step": "损失（实线）与学习率（虚线），横轴为步数",
    "&Advanced: LoRA training…": "高级：LoRA 训练(&A)…",
    "Pre-training with LoRA (Chinese-LLaMA, sections 4.3-4.4)": "LoRA 预训练（Chinese-LLaMA，第 4.3-4.4 节）",
    "Pre-training stage 1 of 2: embeddings only (7B)": "预训练第 1 阶段（共 2 阶段）：仅训练词嵌入（7B）",
    "Instruction fine-tuning with LoRA (Chinese-Alpaca, section 4.5)": "LoRA 指令精调（Chinese-Alpaca，第 4.5 节）",
    "Tiny test on the CPU (a tiny model only)": "CPU 上的微型测试（仅限微型模型）",
    "This computer": "本机",
    "Checking {target}…": "正在检查 {target}…",
    "the CPU (tiny test)": "CPU（微型测试）",
    "Ready: {devices}": "就绪：{devices}",
    "Run {job} is starting…": "运行 {job} 正在启动…",
    "Stopping after the current step…": "将在当前步骤完成后停止…",
    "Step {step} of {total}": "第 {step} / {total} 步",
    "loss {loss:.4f}": "损失 {loss:.4f}",
    "{speed:,.0f} tokens/s": "{speed:,.0f} token/秒",
    "GPU memory {gib:.1f} GiB": "显存 {gib:.1f} GiB",
    "{eta} left": "剩余 {eta}",
    "Run {job} finished: the adapter is in {path}": "运行 {job} 已完成：适配器位于 {path}",
    "Run {job} stopped at step {step}.": "运行 {job} 已在第 {step} 步停止。",
    "Start the same recipe again to resume from its checkpoint.": "用同样的配置再次开始即可从检查点继续。",
    "Run {job} failed: {message}": "运行 {job} 失败：{message}",
    "Merging the adapter into {model}…": "正在把适配器合并到 {model}…",
    "Merged into {path}. Convert it to GGUF to chat with it.": "已合并到 {path}。转换为 GGUF 后即可用它对话。",
    "starting": "启动中",
    "running": "运行中",
    "finished": "已完成",
    "Advanced: LoRA training": "高级：LoRA 训练",
    "Pre-training (plain text)": "预训练（纯文本）",
    "Instruction fine-tuning (Alpaca JSON)": "指令精调（Alpaca JSON）",
    "Hugging Face model folder (LLaMA)": "Hugging Face 模型文件夹（LLaMA）",
    "Optional: the model folder's tokenizer": "可选：默认使用模型文件夹中的分词器",
    "Text file or folder (pre-training), JSON or JSON lines (instructions)": "文本文件或文件夹（预训练），JSON 或 JSON lines（指令数据）",
    "Preview": "预览",
    "Show the first records and their token counts under the tokenizer": "显示前几条记录及其在该分词器下的 token 数",
    "Learned": "参与学习",
    "Recipe": "训练配置",
    "Preset:": "预设：",
    "Kind:": "类型：",
    "Model:": "模型：",
    "Tokenizer:": "分词器：",
    "Dataset:": "数据集：",
    "from the epochs": "按轮数计算",
    "at the end and on stop": "结束时和停止时",
    "Gradient checkpointing (less memory, slower)": "梯度检查点（省显存，较慢）",
    "Automatic (bf16 or fp16 on the GPU)": "自动（GPU 上用 bf16 或 fp16）",
    "LoRA (and embeddings when the vocabulary grows)": "LoRA（词表扩充时同时训练词嵌入）",
    "Stage 1: embeddings only, transformer frozen": "第 1 阶段：仅训练词嵌入，冻结 Transformer",
    "When the tokenizer is larger than the model": "当分词器比模型词表大时",
    "Always": "总是",
    "Never": "从不",
    "Hyper-parameters": "超参数",
    "LoRA rank / alpha / dropout:": "LoRA 秩 / alpha / dropout：",
    "Learning rate:": "学习率：",
    "Epochs / max steps:": "轮数 / 最大步数：",
    "Block size:": "块大小：",
    "Batch / accumulation:": "批大小 / 梯度累积：",
    "Checkpoint every:": "检查点间隔：",
    "Seed:": "随机种子：",
    "Precision:": "精度：",
    "Stage:": "阶段：",
    "Train embeddings:": "训练词嵌入：",
    "Where it runs": "运行位置",
    "Target:": "目标：",
    "Start": "开始",
    "Stop after the current step; a checkpoint is saved and a rerun resumes": "在当前步骤完成后停止；会保存检查点，再次运行时从中继续",
    "Merge into the model…": "合并到模型…",
    "Merge the finished adapter into its base model (safetensors)": "把训练完成的适配器合并到其基础模型（safetensors）",
    "No run yet.": "还没有运行。",
    "The run's log appears here.": "运行日志会显示在这里。",
    "Run": "运行",
    "Target": "目标",
    "Step": "步数",
    "Loss": "损失",
    "Runs": "运行记录",
    "Choose a folder": "选择文件夹",
    "Choose the dataset": "选择数据集",
    "Data (*.txt *.json *.jsonl);;All files (*)": "数据 (*.txt *.json *.jsonl);;所有文件 (*)",
    "all (or e.g. 0,1)": "全部（或如 0,1）",
    "CUDA device numbers to train on, separated by commas": "用于训练的 CUDA 设备编号，以逗号分隔",
    "More than one starts one process per GPU through torchrun": "大于 1 时通过 torchrun 为每个 GPU 启动一个进程",
    "GPUs / processes:": "GPU / 进程数：",
    "Optional: an adapter to continue (stage 2 after stage 1)": "可选：要继续训练的适配器（第 1 阶段之后的第 2 阶段）",
    "Continue from:": "继续自：",
    "Parameters": "参数",
    # -- The quantization report's chart --
    "File size ({0})": "文件大小（{0}）",
    "Perplexity (lower is better)": "困惑度（越低越好）",
    "Export chart as PNG…": "导出图表为 PNG…",
    "Export chart as PNG": "导出图表为 PNG",
    "PNG image (*.png)": "PNG 图像 (*.png)",
    "Cannot write {0}: {1}": "无法写入 {0}：{1}",
    # -- Downloads in the system tray (app/views/tray.py, app/controllers/tray.py) --
    "Show Alpaca Desk": "显示 Alpaca Desk",
    "Pause all downloads": "暂停全部下载",
    "Resume downloads": "继续下载",
    "Quit Alpaca Desk": "退出 Alpaca Desk",
    "Keep downloading in the tray when the window is closed": "关闭窗口后在系统托盘中继续下载",
    "Where the desktop has no system tray, or with this off, closing the window while downloads run asks "
    "first; stopped downloads resume the next time you start Alpaca Desk.": (
        "桌面没有系统托盘或关闭此项时，在下载进行中关闭窗口会先询问；停止的下载会在下次启动 Alpaca Desk 时继续。"
    ),
    "Downloads are running": "下载正在进行",
    "A download is running. Quit and resume it the next time you start Alpaca Desk?": (
        "有 1 个下载正在进行。要退出并在下次启动 Alpaca Desk 时继续吗？"
    ),
    "{0} downloads are running. Quit and resume them the next time you start Alpaca Desk?": (
        "有 {0} 个下载正在进行。要退出并在下次启动 Alpaca Desk 时继续吗？"
    ),
    "What is already downloaded stays on disk; the downloads go on from there, not from zero.": (
        "已下载的部分会保留在磁盘上，下载将从那里继续，而不是从头开始。"
    ),
    "Quit": "退出",
    "Keep downloading": "继续下载",
    "Alpaca Desk is still downloading": "Alpaca Desk 仍在下载",
    "The downloads go on with the window closed. Click this icon to open the window again; Quit in its "
    "menu stops them (they resume the next time you start Alpaca Desk).": (
        "窗口已关闭，下载仍在继续。点击此图标可重新打开窗口；选择其菜单中的“退出”会停止下载"
        "（下次启动 Alpaca Desk 时继续）。"
    ),
    "… and {0} more": "…… 另有 {0} 个",
    "Alpaca Desk: no download in progress": "Alpaca Desk：没有正在进行的下载",
    "Alpaca Desk: downloading {0} file(s)": "Alpaca Desk：正在下载 {0} 个文件",
    "{0}% of {1}": "{1} 的 {0}%",
    "{0} left": "剩余 {0}",
    "{0}: starting": "{0}：正在开始",
    "{0}: {1}%": "{0}：{1}%",
    "paused": "已暂停",
    "{0}: {1}": "{0}：{1}",
    "Download failed": "下载失败",
    "{0}: {1} Click to open the downloads.": "{0}：{1} 点击打开下载列表。",
    "{0} is downloaded and verified. Click to chat with it.": "{0} 已下载并通过校验。点击即可开始对话。",
    "{0} is downloaded and verified. Click to convert it to GGUF.": "{0} 已下载并通过校验。点击将其转换为 GGUF。",
    "Download finished": "下载完成",
    # -- Merging a published LoRA from the catalogue (issues 11, 12) --
    "The paper's recipe merges it on top of {0}: LLaMA + {0} + {1}.": "按论文的做法，它要合并在 {0} 之上：LLaMA + {0} + {1}。",
    "Merge with LLaMA weights…": "与 LLaMA 权重合并…",
    "Checking that this computer has what merging needs…": "正在检查本机是否具备合并所需的组件…",
    "LLaMA (the folder above)": "LLaMA（上面选择的文件夹）",
    "on disk": "已在磁盘上",
    "not downloaded": "尚未下载",
    "The paper's recipe: this adapter is merged on top of {0}, which is merged into LLaMA first.": "按论文的做法：此适配器合并在 {0} 之上，而后者先合并进 LLaMA。",
    "Downloading the missing adapters; the merge can start when they are here.": "正在下载缺少的适配器；下载完成后即可开始合并。",
    "LLaMA, {layers} layers, hidden size {hidden}, {rows} tokens, {dtype}, {size}": "LLaMA，{layers} 层，隐藏维度 {hidden}，{rows} 个词元，{dtype}，{size}",
    "Choose a folder for the merged model.": "请为合并后的模型选择一个文件夹。",
    "The merged model takes about {0}; {1} is free there.": "合并后的模型约占 {0}；该位置可用空间为 {1}。",
    "Known when the LLaMA folder has been checked.": "检查完 LLaMA 文件夹后即可得知。",
    "Download the missing adapters first.": "请先下载缺少的适配器。",
    "Merging {0} into {1}…": "正在将 {0} 合并进 {1}…",
    "Merged into {0}. The convert wizard makes a GGUF file of it.": "已合并到 {0}。转换向导会把它制作成 GGUF 文件。",
    "The merge was cancelled; nothing was kept.": "合并已取消；未保留任何文件。",
    "Merge {0} with LLaMA weights": "将 {0} 与 LLaMA 权重合并",
    "This repository holds LoRA weights only. They are merged into Meta's original LLaMA weights, in Hugging Face format (config.json, tokenizer.model and the weight files), to make a model that the convert wizard then turns into a GGUF file for chatting.": "此仓库只含 LoRA 权重。它们需要合并进 Meta 原版 LLaMA 权重（Hugging Face 格式：config.json、tokenizer.model 和权重文件），得到的模型再由转换向导制作成可用于对话的 GGUF 文件。",
    "The folder of the original LLaMA weights (Hugging Face format)": "原版 LLaMA 权重所在的文件夹（Hugging Face 格式）",
    "Choose…": "选择…",
    "Download the missing adapters": "下载缺少的适配器",
    "LLaMA weights:": "LLaMA 权重：",
    "Merge chain:": "合并顺序：",
    "Merged model:": "合并后的模型：",
    "Disk space:": "磁盘空间：",
    "Merge": "合并",
    "The original LLaMA weights (Hugging Face format)": "原版 LLaMA 权重（Hugging Face 格式）",
    "{repo} is not a LoRA repository of the model catalogue (or its merge recipe goes round in a circle), so it cannot be merged from here.": "{repo} 不是模型目录中的 LoRA 仓库（或其合并顺序出现了循环），无法在此合并。",
    "The LoRA repository {repo} is not (wholly) in the models folder {folder}. Download it first: alpaca-desk download {repo}": "LoRA 仓库 {repo} 不在（或未完整下载到）模型文件夹 {folder} 中。请先下载：alpaca-desk download {repo}",
    "{repo} is merged on top of {after}: give the adapters in the order {chain}.": "{repo} 要合并在 {after} 之上：请按 {chain} 的顺序给出适配器。",
    "{folder} is not a folder. Choose the folder of the original LLaMA weights in Hugging Face format.": "{folder} 不是文件夹。请选择 Hugging Face 格式的原版 LLaMA 权重所在的文件夹。",
    "{folder} holds Meta's original checkpoint (consolidated.*.pth). The merge needs the Hugging Face format: convert it first with transformers' script, {command}, then choose the output folder.": "{folder} 中是 Meta 的原始检查点（consolidated.*.pth）。合并需要 Hugging Face 格式：请先用 transformers 的脚本转换（{command}），再选择其输出文件夹。",
    "{folder} has no config.json: it is not a model in Hugging Face format. Choose the folder of the original LLaMA weights converted to Hugging Face format (config.json, tokenizer.model, weights).": "{folder} 中没有 config.json：它不是 Hugging Face 格式的模型。请选择已转换为 Hugging Face 格式的原版 LLaMA 权重文件夹（config.json、tokenizer.model、权重）。",
    "{folder} has a vocabulary of {rows} tokens{label}, not the original LLaMA's {expected}. The Chinese LoRA adapters add the Chinese vocabulary themselves and must be merged into Meta's original LLaMA weights, not into a model that was merged or extended already.": "{folder} 的词表有 {rows} 个词元{label}，不是原版 LLaMA 的 {expected}。中文 LoRA 适配器会自行加入中文词表，必须合并进 Meta 原版 LLaMA 权重，而不是已经合并或扩充过词表的模型。",
    "{folder} is LLaMA {found}, but these adapters are for LLaMA {params}. Choose the {params} weights.": "{folder} 是 LLaMA {found}，而这些适配器是为 LLaMA {params} 准备的。请选择 {params} 的权重。",
    "Merging needs {packages} (the train extra), which this computer's Python ({python}) lacks. Install them with: {command}, or merge with alpaca-desk merge-lora on a computer that has them.": "合并需要 {packages}（train 附加组件），本机的 Python（{python}）中没有。请用以下命令安装：{command}，或在具备这些组件的电脑上用 alpaca-desk merge-lora 合并。",
}

# (context, source) -> translation, for the rare source text that needs a different wording in
# one context. Looked up before ZH.
ZH_BY_CONTEXT: dict[tuple[str, str], str] = {}

_MESSAGE = re.compile(r"<message(?: [^>]*)?>.*?</message>", re.DOTALL)
_TRANSLATION = re.compile(r"<translation(?: [^>]*)?(?:/>|>.*?</translation>)", re.DOTALL)


def app_sources(root: Path = REPO_ROOT) -> list[str]:
    """Every .py file under app/ (tracked or not), relative to ``root``, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "app").rglob("*.py"))


def lupdate_executable() -> Path:
    """The venv's pyside6-lupdate (next to the running Python)."""
    return Path(sys.executable).parent / "pyside6-lupdate"


def run_lupdate(ts_file: Path = TS_FILE, root: Path = REPO_ROOT) -> None:
    """Refresh ``ts_file`` from the app sources (keeps translations, drops obsolete ones)."""
    cmd = [str(lupdate_executable()), *app_sources(root), "-ts", str(ts_file), "-no-obsolete"]
    if not ts_file.exists():
        cmd += ["-target-language", "zh_CN"]
    subprocess.run(cmd, cwd=root, check=True)


def _translation_xml(text: str, numerus: bool) -> str:
    body = escape(text, {'"': "&quot;", "'": "&apos;"})
    if numerus:
        return f"<translation>\n            <numerusform>{body}</numerusform>\n        </translation>"
    return f"<translation>{body}</translation>"


def _is_unfinished(message: ET.Element) -> bool:
    translation = message.find("translation")
    if translation is None:
        return True
    if translation.get("type") == "unfinished":
        return True
    if message.get("numerus") == "yes":
        forms = translation.findall("numerusform")
        return not forms or any(not (f.text or "").strip() for f in forms)
    return not (translation.text or "").strip()


def fill(ts_file: Path = TS_FILE, *, force: bool = False) -> tuple[int, list[tuple[str, str]]]:
    """Fill untranslated messages from ZH; returns (how many were filled, what is still missing)."""
    text = ts_file.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    # Messages in file order, with their context; the regex below walks the same order.
    entries = [(ctx.findtext("name") or "", msg) for ctx in root.iter("context") for msg in ctx.iter("message")]
    blocks = list(_MESSAGE.finditer(text))
    if len(blocks) != len(entries):
        raise SystemExit(f"{ts_file}: could not match messages ({len(blocks)} blocks, {len(entries)} parsed)")
    filled = 0
    missing: list[tuple[str, str]] = []
    out: list[str] = []
    pos = 0
    for (context, message), block in zip(entries, blocks, strict=True):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        kind = translation.get("type") if translation is not None else None
        if kind in ("vanished", "obsolete"):
            continue
        wanted = ZH_BY_CONTEXT.get((context, source), ZH.get(source))
        if wanted is not None and (force or _is_unfinished(message)):
            replacement = _translation_xml(wanted, message.get("numerus") == "yes")
            new_block = _TRANSLATION.sub(lambda _m, r=replacement: r, block.group(0), count=1)
            if new_block != block.group(0):
                out.append(text[pos : block.start()])
                out.append(new_block)
                pos = block.end()
                filled += 1
        elif wanted is None and _is_unfinished(message):
            missing.append((context, source))
    out.append(text[pos:])
    ts_file.write_text("".join(out), encoding="utf-8")
    return filled, missing


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-lupdate", action="store_true", help="only fill; do not run pyside6-lupdate first")
    parser.add_argument("--force", action="store_true", help="overwrite finished translations with those in ZH")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if anything is untranslated")
    args = parser.parse_args(argv)
    if not args.no_lupdate:
        run_lupdate()
    filled, missing = fill(force=args.force)
    sys.stdout.write(f"{TS_FILE.relative_to(REPO_ROOT)}: filled {filled} translation(s)\n")
    if missing:
        sys.stdout.write(f"{len(missing)} message(s) still untranslated (add them to ZH in {__file__}):\n")
        for context, source in missing:
            sys.stdout.write(f"  [{context}] {source!r}\n")
    return 1 if (missing and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
