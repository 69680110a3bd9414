<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Banner</name>
    <message>
        <location filename="../../app/views/banner.py" line="56"/>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/banner.py" line="113"/>
        <source>{0} of {1}</source>
        <translation>第 {0} 条，共 {1} 条</translation>
    </message>
</context>
<context>
    <name>Catalogue</name>
    <message>
        <location filename="../../app/catalogue_texts.py" line="21"/>
        <source>Llama 2 Community License (Meta) plus the Chinese-LLaMA-Alpaca-2 project&apos;s terms; the project&apos;s code is Apache-2.0. Commercial use is allowed within Llama 2&apos;s licence.</source>
        <extracomment>Every note the catalogue shows: the licences of the shipped snapshot&apos;s entries and of a repository found by a search.</extracomment>
        <translation>Llama 2 社区许可协议（Meta）及 Chinese-LLaMA-Alpaca-2 项目条款；代码为 Apache-2.0。可在 Llama 2 许可范围内商用。</translation>
    </message>
    <message>
        <location filename="../../app/catalogue_texts.py" line="26"/>
        <source>LoRA weights only (Apache-2.0 code). Merging needs the original LLaMA weights from Meta, and the merged model inherits LLaMA&apos;s non-commercial research licence.</source>
        <translation>仅含 LoRA 权重（代码为 Apache-2.0）。合并需要 Meta 原版 LLaMA 权重，合并后的模型沿用 LLaMA 的非商业研究许可。</translation>
    </message>
    <message>
        <location filename="../../app/catalogue_texts.py" line="31"/>
        <source>See the repository&apos;s page on the hub.</source>
        <translation>请查看该仓库在模型库上的页面。</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <location filename="../../app/controllers/chat.py" line="186"/>
        <source>Type a message below to start.</source>
        <extracomment>Messages shown when a conversation opens, and per &quot;Show earlier messages&quot; click. An answer&apos;s details say the computer was busy when other programs kept at least this many cores busy while it was written (the GUI itself uses a tenth of one while streaming).</extracomment>
        <translation>在下方输入消息即可开始。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="209"/>
        <source>No model is loaded. Open a GGUF model file from the Model menu first; your message is kept.</source>
        <translation>尚未加载模型。请先从“模型”菜单打开 GGUF 模型文件；你的消息已保留。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="275"/>
        <source>No model is loaded. Open a GGUF model file from the Model menu first.</source>
        <translation>尚未加载模型。请先从“模型”菜单打开一个 GGUF 模型文件。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="306"/>
        <source>Editing an earlier message: Send replaces it and the messages after it. Esc cancels.</source>
        <translation>正在编辑之前的消息：点击“发送”将替换这条消息及其后的所有消息。按 Esc 取消。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="379"/>
        <source>Model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="380"/>
        <source>Template: {0}</source>
        <translation>模板：{0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="381"/>
        <source>Temperature {0}, top-k {1}, top-p {2}, repetition penalty {3}, context {4}</source>
        <translation>温度 {0}，Top-k {1}，Top-p {2}，重复惩罚 {3}，上下文 {4}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="390"/>
        <source>Seed: {0}</source>
        <translation>随机种子：{0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="393"/>
        <source>Prompt {0} tokens, answer {1} tokens, first token after {2:.0f} ms</source>
        <translation>提示词 {0} 个 token，回答 {1} 个 token，首个 token 用时 {2:.0f} 毫秒</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="409"/>
        <location filename="../../app/controllers/chat.py" line="515"/>
        <source>{0:.1f} tokens/s</source>
        <translation>{0:.1f} token/秒</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="411"/>
        <source>{0} tokens</source>
        <translation>{0} 个 token</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="414"/>
        <source>{0:.0%} of drafted tokens accepted</source>
        <translation>起草的词元有 {0:.0%} 被接受</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="416"/>
        <source>writing…</source>
        <translation>生成中…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="417"/>
        <source>interrupted (the app closed while it was written)</source>
        <translation>已中断（生成过程中应用被关闭）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="418"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="419"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/controllers/chat.py" line="425"/>
        <location filename="../../app/controllers/chat.py" line="480"/>
        <source>%n earlier turn(s) left out to fit the context</source>
        <translation>
            <numerusform>为适应上下文长度，省略了较早的 %n 轮对话</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="434"/>
        <source>computer busy (other programs used {0:.1f} of {1} cores)</source>
        <translation>电脑繁忙（其他程序占用了 {1} 核中的 {0:.1f} 核）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="437"/>
        <source>computer busy (load {0:.1f} on {1} cores)</source>
        <translation>电脑繁忙（{1} 核负载 {0:.1f}）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="521"/>
        <source>The answer stopped because the context window is full. Start a new conversation or raise the context size.</source>
        <translation>上下文窗口已满，回答已停止。请新建对话或增大上下文长度。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/chat.py" line="611"/>
        <source>Context {0} / {1}</source>
        <translation>上下文 {0} / {1}</translation>
    </message>
</context>
<context>
    <name>ChatInput</name>
    <message>
        <location filename="../../app/views/chat_view.py" line="435"/>
        <source>Message to send</source>
        <translation>要发送的消息</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="436"/>
        <source>Type a message. Enter sends, Shift+Enter starts a new line.</source>
        <translation>输入消息。按 Enter 发送，Shift+Enter 换行。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../app/views/chat_view.py" line="263"/>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="295"/>
        <source>Open a model from the Model menu, then type a message below.</source>
        <translation>请先从“模型”菜单打开模型，然后在下方输入消息。</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="318"/>
        <source>Show {0} earlier messages</source>
        <translation>显示更早的 {0} 条消息</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="376"/>
        <source>Answer finished: {0}</source>
        <translation>回答完成：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="378"/>
        <source>The answer ended without any text.</source>
        <translation>回答结束，没有任何文字。</translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <location filename="../../app/views/code_block.py" line="271"/>
        <location filename="../../app/views/code_block.py" line="285"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/views/code_block.py" line="272"/>
        <source>Copy this code</source>
        <translation>复制这段代码</translation>
    </message>
    <message>
        <location filename="../../app/views/code_block.py" line="273"/>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <location filename="../../app/views/code_block.py" line="333"/>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>CodeView</name>
    <message>
        <location filename="../../app/views/code_block.py" line="170"/>
        <source>Code</source>
        <extracomment>Pygments styles, chosen by the palette: dark text on a light background, or the reverse. A fence&apos;s language longer than this is cut in the header (the info string is untrusted text). A code block longer than this is shown without colours: Pygments lexes in pure Python, about a megabyte a second, and a streaming block is lexed again at every redraw. The longest run of lexing on the GUI thread before the event loop goes on (seconds). A code block still streaming is coloured up to this length; past it, once its fence closes. The pause before a block still streaming is lexed again with the text that came meanwhile (ms). How long the Copy button says &quot;Copied&quot;.</extracomment>
        <translation>代码</translation>
    </message>
</context>
<context>
    <name>ConversationListView</name>
    <message>
        <location filename="../../app/views/conversation_list.py" line="64"/>
        <location filename="../../app/views/conversation_list.py" line="66"/>
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="73"/>
        <source>Clear search</source>
        <translation>清除搜索</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="80"/>
        <source>New chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="81"/>
        <source>Start a new conversation</source>
        <translation>开始新对话</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="83"/>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="84"/>
        <source>Import a conversation from an Alpaca Desk JSON file</source>
        <translation>从 Alpaca Desk 导出的 JSON 文件导入对话</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="88"/>
        <source>Conversations</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="144"/>
        <location filename="../../app/views/conversation_list.py" line="220"/>
        <location filename="../../app/views/conversation_list.py" line="222"/>
        <source>Untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="152"/>
        <source>{title}
Last changed {when}</source>
        <translation>{title}
最后修改于 {when}</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="199"/>
        <source>No conversation matches the search.</source>
        <translation>没有与搜索内容匹配的对话。</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="201"/>
        <source>No conversations yet.</source>
        <translation>还没有对话。</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="241"/>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="243"/>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="244"/>
        <source>Export as JSON…</source>
        <translation>导出为 JSON…</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="246"/>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="264"/>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <location filename="../../app/views/conversation_list.py" line="265"/>
        <source>Delete “{title}”? This cannot be undone.</source>
        <translation>确定删除“{title}”吗？此操作无法撤销。</translation>
    </message>
</context>
<context>
    <name>ConversationsController</name>
    <message>
        <location filename="../../app/controllers/conversations.py" line="116"/>
        <source>Stop the answer before deleting this conversation.</source>
        <translation>请先停止生成回答，再删除此对话。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="129"/>
        <source>There is no conversation to export yet.</source>
        <translation>还没有可导出的对话。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="144"/>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="146"/>
        <source>Markdown (*.md)</source>
        <translation>Markdown 文件 (*.md)</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="146"/>
        <location filename="../../app/controllers/conversations.py" line="164"/>
        <source>JSON (*.json)</source>
        <translation>JSON 文件 (*.json)</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="157"/>
        <source>Could not export to {0}: {1}</source>
        <translation>无法导出到 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="159"/>
        <source>Exported to {0}</source>
        <translation>已导出到 {0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/conversations.py" line="164"/>
        <source>Import conversation</source>
        <translation>导入对话</translation>
    </message>
</context>
<context>
    <name>ConvertWizard</name>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="55"/>
        <source>Convert and quantize my weights</source>
        <translation>转换并量化我的权重</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="101"/>
        <source>Back</source>
        <translation>上一步</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="103"/>
        <location filename="../../app/views/convert_wizard.py" line="126"/>
        <source>Next</source>
        <translation>下一步</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="106"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="108"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="44"/>
        <source>Choose the folder the merge script wrote: a Hugging Face folder (config.json, *.safetensors or pytorch_model*.bin, tokenizer.model) or Meta&apos;s layout (consolidated.*.pth, params.json, tokenizer.model). It is checked before anything is written.</source>
        <translation>请选择合并脚本输出的文件夹：Hugging Face 格式（config.json、*.safetensors 或 pytorch_model*.bin、tokenizer.model），或 Meta 的格式（consolidated.*.pth、params.json、tokenizer.model）。写入任何文件之前会先检查它。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="53"/>
        <source>Checkpoint folder</source>
        <translation>权重文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="54"/>
        <location filename="../../app/views/convert_pages.py" line="91"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="55"/>
        <source>Check the folder</source>
        <translation>检查文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="78"/>
        <source>F16 (16-bit, the usual)</source>
        <translation>F16（16 位，常用）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="79"/>
        <source>BF16 (16-bit, the training type)</source>
        <translation>BF16（16 位，训练时的类型）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="80"/>
        <source>F32 (32-bit, exact)</source>
        <translation>F32（32 位，无损）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="97"/>
        <source>All cores</source>
        <translation>全部核心</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="100"/>
        <source>Automatic (from the name and vocabulary)</source>
        <translation>自动（根据名称和词表）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="103"/>
        <source>None (a base model)</source>
        <translation>无（基础模型）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="109"/>
        <source>Converted file</source>
        <translation>转换后的文件</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="110"/>
        <source>Quantized files</source>
        <translation>量化后的文件</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="111"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="112"/>
        <source>Threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="113"/>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="139"/>
        <source>Chat with it</source>
        <translation>用它对话</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_pages.py" line="140"/>
        <source>Make a quantization report</source>
        <translation>生成量化报告</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="126"/>
        <source>Convert</source>
        <translation>转换</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="155"/>
        <source>Choose the checkpoint folder</source>
        <translation>选择权重文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="181"/>
        <source>Checking {0}…</source>
        <translation>正在检查 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="205"/>
        <source>Hugging Face, safetensors</source>
        <translation>Hugging Face，safetensors</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="206"/>
        <source>Hugging Face, PyTorch .bin</source>
        <translation>Hugging Face，PyTorch .bin</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="207"/>
        <source>Meta&apos;s consolidated.*.pth</source>
        <translation>Meta 的 consolidated.*.pth</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="214"/>
        <source>matches the tokenizer</source>
        <translation>与分词器一致</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="214"/>
        <source>does NOT match the tokenizer</source>
        <translation>与分词器不一致</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="216"/>
        <source>Format: {0}</source>
        <translation>格式：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="217"/>
        <source>Architecture: {0}</source>
        <translation>架构：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="218"/>
        <source>Parameters: {0:,}</source>
        <translation>参数量：{0:,}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="219"/>
        <source>Layers: {0}; hidden size: {1}; attention heads: {2} ({3} key/value)</source>
        <translation>层数：{0}；隐藏层大小：{1}；注意力头：{2}（键/值 {3}）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="225"/>
        <source>Vocabulary: {0}, {1} ({2:,} pieces)</source>
        <translation>词表：{0}，{1}（{2:,} 个词元）</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="226"/>
        <source>Weights: {0}, {1} in all</source>
        <translation>权重：{0}，共 {1}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="229"/>
        <source>Chat template: {0}</source>
        <translation>对话模板：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="233"/>
        <source>Problems (nothing will be written until they are fixed):</source>
        <translation>问题（修正之前不会写入任何文件）：</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="237"/>
        <source>No problems found.</source>
        <translation>未发现问题。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="243"/>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="267"/>
        <source>Choose an output folder.</source>
        <translation>请选择输出文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="274"/>
        <source>Not enough space: the files need about {0}, and {1} has {2} free.</source>
        <translation>空间不足：这些文件约需 {0}，而 {1} 只有 {2} 可用。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="280"/>
        <source>The files need about {0}; there is enough free space.</source>
        <translation>这些文件约需 {0}；可用空间足够。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="300"/>
        <source>Converting to {0}</source>
        <translation>转换为 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="302"/>
        <source>Quantizing to {0}</source>
        <translation>量化为 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="307"/>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="326"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="336"/>
        <source>{0} elapsed</source>
        <translation>已用 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="338"/>
        <source>, about {0} left</source>
        <translation>，约剩 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="347"/>
        <source>done: {0} in {1}</source>
        <translation>完成：{0}，用时 {1}</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="360"/>
        <source>Done. The files are in {0}.</source>
        <translation>完成。文件在 {0} 中。</translation>
    </message>
    <message>
        <location filename="../../app/views/convert_wizard.py" line="368"/>
        <source>Cancelled; the file in progress was removed.</source>
        <translation>已取消；未完成的文件已删除。</translation>
    </message>
</context>
<context>
    <name>DecodingPanel</name>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="22"/>
        <source>Context size</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="23"/>
        <source>How many tokens the model sees at once: the prompt, the earlier messages and the answer together. Larger contexts need more memory.</source>
        <translation>模型一次能看到的 token 数，包括提示词、之前的消息和回答。上下文越长，占用的内存越多。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="31"/>
        <source>Max new tokens</source>
        <translation>最大生成长度</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="32"/>
        <source>The longest answer, in tokens. It must be smaller than the context size.</source>
        <translation>回答的最大长度（以 token 计），必须小于上下文长度。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="38"/>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="39"/>
        <source>Randomness of the answer: low values are focused and repeatable, high values more varied. 0 always picks the most likely token.</source>
        <translation>回答的随机程度：值越低，回答越集中、越可复现；值越高，回答越多样。为 0 时总是选择概率最高的 token。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="47"/>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="48"/>
        <source>Sample only from the k most likely tokens. 0 turns this limit off.</source>
        <translation>只从概率最高的 k 个 token 中采样。设为 0 表示不限制。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="54"/>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="55"/>
        <source>Sample only from the most likely tokens whose probabilities add up to p (nucleus sampling). 1 turns this limit off.</source>
        <translation>只从累计概率达到 p 的最可能的 token 中采样（核采样）。设为 1 表示不限制。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="63"/>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="64"/>
        <source>Makes tokens that already appeared less likely, against loops. 1 means no penalty.</source>
        <translation>降低已出现过的 token 的概率，避免内容循环重复。设为 1 表示不惩罚。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="76"/>
        <source>Chinese-Alpaca (v1, Plus, Pro)</source>
        <translation>Chinese-Alpaca（v1、Plus、Pro）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="77"/>
        <source>Stanford-Alpaca instruction format used to fine-tune Chinese-Alpaca, Chinese-Alpaca-Plus and -Pro (vocabulary of 49,954 pieces).</source>
        <translation>Chinese-Alpaca、Chinese-Alpaca-Plus 和 -Pro 精调所用的 Stanford-Alpaca 指令格式（词表 49,954）。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="85"/>
        <source>Chinese-Alpaca-2 (Llama-2 chat)</source>
        <translation>Chinese-Alpaca-2（Llama-2 对话格式）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="86"/>
        <source>Llama-2 chat format ([INST] ... [/INST]) used by Chinese-Alpaca-2 (vocabulary of 55,296 pieces).</source>
        <translation>Chinese-Alpaca-2 使用的 Llama-2 对话格式（[INST] ... [/INST]），词表 55,296。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="93"/>
        <source>Raw text (base models)</source>
        <translation>纯文本续写（基座模型）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="94"/>
        <source>No template: the text is continued as written. For base models such as Chinese-LLaMA and Chinese-LLaMA-2, which were never trained to follow instructions.</source>
        <translation>不使用模板：直接续写输入的文本。适用于 Chinese-LLaMA、Chinese-LLaMA-2 等未经指令精调的基座模型。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="102"/>
        <source>Model file&apos;s template (Jinja)</source>
        <translation>模型文件自带的模板（Jinja）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="103"/>
        <source>The chat template stored in the GGUF file (tokenizer.chat_template), rendered in a sandbox. For models that are not Chinese-LLaMA or Chinese-Alpaca.</source>
        <translation>GGUF 文件中保存的对话模板（tokenizer.chat_template），在沙箱中渲染。适用于 Chinese-LLaMA / Chinese-Alpaca 以外的模型。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="117"/>
        <source>Single-turn (paper)</source>
        <translation>单轮问答（论文）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_texts.py" line="119"/>
        <source>Multi-turn chat</source>
        <translation>多轮对话</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="131"/>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="137"/>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="141"/>
        <source>Settings from the Chinese-LLaMA paper: temperature 0.2 for single answers, 0.5 for multi-turn chat.</source>
        <translation>Chinese-LLaMA 论文中的设置：单轮问答温度 0.2，多轮对话温度 0.5。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="148"/>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="185"/>
        <source>Memory planned for the loaded model at this context size and KV cache type: its weights, the KV cache and the working buffers.</source>
        <translation>按当前上下文长度和 KV 缓存类型为已加载模型估算的内存：包括权重、KV 缓存和工作缓冲区。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="195"/>
        <source>Random seed</source>
        <translation>使用随机种子</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="199"/>
        <source>Use a new random seed for every answer. Untick it and choose a seed to get the same answer again for the same prompt and settings.</source>
        <translation>每次回答都使用新的随机种子。取消勾选并指定种子后，相同的提示词和设置会得到相同的回答。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="206"/>
        <source>The seed used when Random seed is off.</source>
        <translation>未勾选“使用随机种子”时所用的随机种子。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="207"/>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="218"/>
        <location filename="../../app/views/decoding_panel.py" line="228"/>
        <source>Threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="224"/>
        <source>CPU threads that decode. Automatic measures which count is fastest and uses one thread while other programs keep the processor busy.</source>
        <translation>用于解码的 CPU 线程数。“自动”会实测哪个线程数最快，并在其他程序占用处理器时只用一个线程。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="244"/>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="246"/>
        <source>f16 (full size)</source>
        <translation>f16（完整大小）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="247"/>
        <source>q8_0 (half the memory)</source>
        <translation>q8_0（一半内存）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="248"/>
        <source>q4_0 (a quarter of the memory)</source>
        <translation>q4_0（四分之一内存）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="251"/>
        <source>How the model keeps the conversation in memory. q8_0 halves the KV cache and q4_0 quarters it, for long contexts in less memory; both turn flash attention on, which on the CPU decodes more slowly as a conversation grows. Applies when the model is loaded again.</source>
        <translation>模型在内存中保存对话的方式。q8_0 让 KV 缓存减半，q4_0 减为四分之一，用更少内存支持长上下文；两者都会开启 flash attention，在 CPU 上对话越长解码越慢。重新加载模型后生效。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="260"/>
        <source>Speculative decoding</source>
        <translation>投机解码</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="262"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="263"/>
        <source>Prompt lookup</source>
        <translation>提示词查找</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="264"/>
        <source>Automatic (prompt lookup while it pays)</source>
        <translation>自动（划算时使用提示词查找）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="265"/>
        <source>Draft model</source>
        <translation>草稿模型</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="268"/>
        <source>Guess the next tokens by copying what followed the same words earlier in the conversation, and check the guesses in one step: faster when the answer repeats the prompt (rewriting, proofreading, quoting), the same text either way. Automatic stops guessing when it does not pay. Applies when the model is loaded again.</source>
        <translation>照抄对话中相同词语之前出现时后面的内容来猜测接下来的词元，并一步验证这些猜测：回答重复提示内容时（改写、校对、引用）更快，生成的文本完全相同。自动模式在不划算时停止猜测。重新加载模型后生效。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="275"/>
        <source>Draft model: a smaller model of the same family guesses instead (the 1.3B model for Chinese-Alpaca-2 and Chinese-LLaMA-2 7B or 13B); it needs memory of its own.</source>
        <translation>草稿模型：改由同一系列中更小的模型来猜测（Chinese-Alpaca-2 和 Chinese-LLaMA-2 的 7B 或 13B 用 1.3B 模型）；它需要占用自己的内存。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="290"/>
        <source>When the context is full</source>
        <translation>上下文已满时</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="291"/>
        <source>Leave out the oldest turns</source>
        <translation>省略最早的对话轮次</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="291"/>
        <source>Stop with a message</source>
        <translation>停止并提示</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="293"/>
        <source>What happens when a conversation no longer fits the context: leave its oldest turns out of the prompt (the model forgets them), or refuse the next message and say so, keeping what you typed.</source>
        <translation>对话超出上下文时怎么办：从提示中省略最早的轮次（模型会忘记它们），或拒绝发送下一条消息并说明原因，保留你输入的内容。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="300"/>
        <source>Reset to paper defaults</source>
        <translation>恢复论文默认值</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="303"/>
        <source>Context 2048, 512 new tokens, temperature 0.2, top-k 40, top-p 0.9, repetition penalty 1.1, random seed.</source>
        <translation>上下文长度 2048，最多生成 512 个 token，温度 0.2，Top-k 40，Top-p 0.9，重复惩罚 1.1，随机种子。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="312"/>
        <source>Template</source>
        <translation>提示词模板</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="320"/>
        <source>How the conversation is written into the prompt.</source>
        <translation>决定对话内容以何种格式写入提示词。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="321"/>
        <location filename="../../app/views/decoding_panel.py" line="574"/>
        <source>Automatic (from the model)</source>
        <translation>自动（根据模型）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="328"/>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="333"/>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="336"/>
        <source>Text the conversation starts with. Leave it empty to use the template&apos;s default.</source>
        <translation>放在对话开头的文本。留空则使用模板的默认系统提示词。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="347"/>
        <location filename="../../app/views/decoding_panel.py" line="350"/>
        <source>Prompt preview</source>
        <translation>提示词预览</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="348"/>
        <source>The exact text the model reads for the next answer.</source>
        <translation>模型生成下一条回答时实际读取的完整文本。</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="473"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="473"/>
        <source>Automatic ({0} in use)</source>
        <translation>自动（当前 {0} 个）</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="576"/>
        <source>Automatic: {label}</source>
        <translation>自动：{label}</translation>
    </message>
    <message>
        <location filename="../../app/views/decoding_panel.py" line="624"/>
        <source>No system prompt</source>
        <translation>无系统提示词</translation>
    </message>
</context>
<context>
    <name>DownloadManager</name>
    <message>
        <location filename="../../app/controllers/downloads.py" line="199"/>
        <source>Offline mode is on: turn it off in Settings → Model hub to download.</source>
        <translation>离线模式已开启：请在“设置 → 模型库”中关闭后再下载。</translation>
    </message>
</context>
<context>
    <name>DownloadTrayIcon</name>
    <message>
        <location filename="../../app/views/tray.py" line="55"/>
        <source>Show Alpaca Desk</source>
        <extracomment>How long a tray message stays up (milliseconds; desktops may cap or ignore it).</extracomment>
        <translation>显示 Alpaca Desk</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="57"/>
        <source>Pause all downloads</source>
        <translation>暂停全部下载</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="59"/>
        <source>Resume downloads</source>
        <translation>继续下载</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="62"/>
        <source>Quit Alpaca Desk</source>
        <translation>退出 Alpaca Desk</translation>
    </message>
</context>
<context>
    <name>DraftModelRow</name>
    <message>
        <location filename="../../app/views/draft_model_row.py" line="31"/>
        <source>Draft model…</source>
        <translation>草稿模型…</translation>
    </message>
    <message>
        <location filename="../../app/views/draft_model_row.py" line="34"/>
        <source>Choose the GGUF file that drafts: a smaller model of the same family, with the same vocabulary (for Chinese-Alpaca-2 and Chinese-LLaMA-2 7B or 13B, the 1.3B model).</source>
        <translation>选择负责起草的 GGUF 文件：同一系列、词表相同的更小模型（Chinese-Alpaca-2 和 Chinese-LLaMA-2 的 7B 或 13B 用 1.3B 模型）。</translation>
    </message>
    <message>
        <location filename="../../app/views/draft_model_row.py" line="42"/>
        <source>No draft model chosen: click Draft model… and choose a smaller GGUF model of the same family, or download the 1.3B model in Model → Get models….</source>
        <translation>尚未选择草稿模型：点击“草稿模型…”并选择同一系列中更小的 GGUF 模型，或在“模型 → 获取模型…”中下载 1.3B 模型。</translation>
    </message>
    <message>
        <location filename="../../app/views/draft_model_row.py" line="65"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
</context>
<context>
    <name>DrafterOffer</name>
    <message>
        <location filename="../../app/controllers/drafter_offer.py" line="74"/>
        <source>Downloading {0}: once it is verified, it becomes the draft model.</source>
        <extracomment>The drafter&apos;s quantization when the entry&apos;s chosen file names none the drafter has: small and quick to decode, which is what a drafter is for.</extracomment>
        <translation>正在下载 {0}：校验通过后，它将成为草稿模型。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/drafter_offer.py" line="77"/>
        <source>Downloading {0} (full weights): convert it to GGUF, then choose the file with Draft model… in the decoding panel.</source>
        <translation>正在下载 {0}（完整权重）：请先转换为 GGUF，再在解码面板中用“草稿模型…”选择该文件。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/drafter_offer.py" line="93"/>
        <source>{0} is the draft model now (Speculative decoding: Draft model); it drafts from the next load of the model.</source>
        <translation>{0} 现在是草稿模型（投机解码：草稿模型）；从下次加载模型起由它起草。</translation>
    </message>
</context>
<context>
    <name>HostsController</name>
    <message>
        <location filename="../../app/controllers/hosts.py" line="68"/>
        <source>A host called {0} is already saved; choose another name or remove it first.</source>
        <translation>已保存名为 {0} 的主机；请换一个名称，或先删除它。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hosts.py" line="75"/>
        <location filename="../../app/controllers/hosts.py" line="87"/>
        <source>Cannot save the hosts: {0}</source>
        <translation>无法保存主机列表：{0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hosts.py" line="116"/>
        <source>The test failed: {0}</source>
        <translation>测试失败：{0}</translation>
    </message>
</context>
<context>
    <name>HostsDialog</name>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="44"/>
        <source>Training hosts</source>
        <translation>训练主机</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="52"/>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="53"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="55"/>
        <source>Saved hosts</source>
        <translation>已保存的主机</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="63"/>
        <source>e.g. lab A100</source>
        <translation>例如：实验室 A100</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="65"/>
        <source>host name or IP address</source>
        <translation>主机名或 IP 地址</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="71"/>
        <source>empty: the SSH agent&apos;s keys</source>
        <translation>留空：使用 SSH agent 中的密钥</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="72"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="77"/>
        <source>Also use the SSH agent&apos;s keys</source>
        <translation>同时使用 SSH agent 中的密钥</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="81"/>
        <source>The Python on the host that runs the jobs (a name on its PATH or a full path).</source>
        <translation>主机上运行任务的 Python（PATH 中的名称或完整路径）。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="84"/>
        <source>Where job folders go on the host (relative: in the login folder).</source>
        <translation>任务文件夹在主机上的位置（相对路径：位于登录目录下）。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="87"/>
        <source>only if the key has one; never saved in a file</source>
        <translation>仅当密钥有口令时填写；绝不保存到文件</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="88"/>
        <source>Remember the passphrase in the system keyring</source>
        <translation>在系统钥匙串中记住口令</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="91"/>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="92"/>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="93"/>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="94"/>
        <source>User:</source>
        <translation>用户：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="95"/>
        <source>Key file:</source>
        <translation>密钥文件：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="97"/>
        <source>Python on the host:</source>
        <translation>主机上的 Python：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="98"/>
        <source>Jobs folder on the host:</source>
        <translation>主机上的任务文件夹：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="99"/>
        <source>Key passphrase:</source>
        <translation>密钥口令：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="102"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="103"/>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="115"/>
        <source>Accept this key and test</source>
        <translation>接受此密钥并测试</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="116"/>
        <source>Do not connect</source>
        <translation>不连接</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="128"/>
        <source>Test a host to see its GPUs, Python and free disk.</source>
        <translation>测试主机以查看其 GPU、Python 和剩余磁盘空间。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="220"/>
        <location filename="../../app/views/hosts_dialog.py" line="230"/>
        <source>Connecting to {0}…</source>
        <translation>正在连接 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="273"/>
        <source>&lt;b&gt;{0}&lt;/b&gt; ({1}:{2}) presents a host key this computer has not seen before:&lt;br&gt;&lt;br&gt;&lt;tt&gt;{3}&lt;/tt&gt; ({4})&lt;br&gt;&lt;br&gt;Compare this fingerprint with the one the host&apos;s administrator gives (&lt;tt&gt;ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub&lt;/tt&gt; on the host). Accept it only if they match: nothing else is sent until you do.</source>
        <translation>&lt;b&gt;{0}&lt;/b&gt;（{1}:{2}）出示了一个本机从未见过的主机密钥：&lt;br&gt;&lt;br&gt;&lt;tt&gt;{3}&lt;/tt&gt;（{4}）&lt;br&gt;&lt;br&gt;请将此指纹与主机管理员提供的指纹核对（在主机上运行 &lt;tt&gt;ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub&lt;/tt&gt;）。只有一致时才接受：在你接受之前不会发送任何其他内容。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="280"/>
        <source>Waiting for you to check the host key of {0}.</source>
        <translation>等待你核对 {0} 的主机密钥。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="287"/>
        <source>Connected to {0} ({1}).</source>
        <translation>已连接到 {0}（{1}）。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="289"/>
        <source>GPUs:</source>
        <translation>GPU：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="292"/>
        <source>GPUs: none found (nvidia-smi is missing or lists none).</source>
        <translation>GPU：未找到（没有 nvidia-smi，或它未列出任何 GPU）。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="294"/>
        <source>Python: {0}</source>
        <translation>Python：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="296"/>
        <source>Python: none usable at {0}.</source>
        <translation>Python：{0} 不可用。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="299"/>
        <source>Free disk in {0}: {1:.1f} GB</source>
        <translation>{0} 的剩余磁盘空间：{1:.1f} GB</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="302"/>
        <source>Python 3.8 or newer on the host</source>
        <translation>主机上的 Python 3.8 或更高版本</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="306"/>
        <source>the training packages {0} (pip install &apos;alpaca-desk[train]&apos; on the host)</source>
        <translation>训练所需的软件包 {0}（在主机上运行 pip install &apos;alpaca-desk[train]&apos;）</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="311"/>
        <source>a CUDA GPU</source>
        <translation>CUDA GPU</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="313"/>
        <source>free disk: at least 10 GB is advised</source>
        <translation>磁盘空间：建议至少 10 GB</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="315"/>
        <source>Missing:</source>
        <translation>缺少：</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="318"/>
        <source>Ready to train.</source>
        <translation>可以开始训练。</translation>
    </message>
    <message>
        <location filename="../../app/views/hosts_dialog.py" line="325"/>
        <source>Choose a private key file</source>
        <translation>选择私钥文件</translation>
    </message>
</context>
<context>
    <name>HubController</name>
    <message>
        <location filename="../../app/controllers/hub.py" line="171"/>
        <source>Offline mode is on: this is the catalogue shipped with Alpaca Desk ({0}); sizes are estimates. Nothing is sent anywhere.</source>
        <translation>离线模式已开启：这是 Alpaca Desk 自带的模型目录（{0}），大小为估算值。不会向任何地方发送数据。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="175"/>
        <source>The hub could not be asked, so this is the shipped catalogue ({0}): {1}</source>
        <translation>无法访问模型库，因此显示自带的模型目录（{0}）：{1}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="180"/>
        <source>The Chinese-LLaMA / Chinese-Alpaca family on {0}. A model&apos;s file list and sizes are asked of the hub when you choose it.</source>
        <translation>{0} 上的 Chinese-LLaMA / Chinese-Alpaca 系列。选中某个模型时才会向模型库查询其文件列表和大小。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="204"/>
        <source>{0} file(s)</source>
        <translation>{0} 个文件</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="210"/>
        <source>★ Recommended for this computer ({0} memory, {1} free): {2}, file {3}.</source>
        <translation>★ 推荐给这台电脑（内存 {0}，可用磁盘 {1}）：{2}，文件 {3}。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="214"/>
        <source>{0} Expected: {1}.</source>
        <translation>{0} 预计：{1}。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="226"/>
        <source>instruct</source>
        <translation>指令</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="226"/>
        <source>base</source>
        <translation>基座</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="228"/>
        <source>GGUF</source>
        <translation>GGUF</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="229"/>
        <source>full weights</source>
        <translation>完整权重</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="230"/>
        <source>LoRA, needs merge</source>
        <translation>LoRA，需合并</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="236"/>
        <source>{role} · gen {gen}{params}{variant} · {fmt}</source>
        <translation>{role} · 第 {gen} 代{params}{variant} · {fmt}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="270"/>
        <source>Ready to chat: download one file (a quantization level).</source>
        <translation>可直接对话：下载其中一个文件（一种量化级别）即可。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="272"/>
        <source>Full Hugging Face weights: after the download, the convert wizard makes a GGUF file with the quantization recommended for this computer.</source>
        <translation>完整的 Hugging Face 权重：下载后，转换向导会按这台电脑推荐的量化级别生成 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="276"/>
        <source>First-generation LoRA weights: they need the original LLaMA weights from Meta and a merge before they can be converted and used.</source>
        <translation>第一代 LoRA 权重：需要 Meta 原版 LLaMA 权重并先合并，才能转换和使用。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="281"/>
        <source>The paper&apos;s recipe merges it on top of {0}: LLaMA + {0} + {1}.</source>
        <translation>按论文的做法，它要合并在 {0} 之上：LLaMA + {0} + {1}。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="287"/>
        <source>{0}, of the same vocabulary, can draft for it in speculative decoding (Speed up with the 1.3B model).</source>
        <translation>词表相同的 {0} 可在投机解码中为它起草（“用 1.3B 模型提速”）。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="292"/>
        <source>Sizes from the hub.</source>
        <translation>大小来自模型库。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="292"/>
        <source>Sizes are the snapshot&apos;s estimates.</source>
        <translation>大小为目录快照中的估算值。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="294"/>
        <source>&lt;b&gt;{repo}&lt;/b&gt;&lt;br&gt;{kind}&lt;br&gt;{what}&lt;br&gt;Context: {ctx} tokens · Template: {template}&lt;br&gt;Licence: {licence}&lt;br&gt;&lt;i&gt;{sizes}&lt;/i&gt;</source>
        <translation>&lt;b&gt;{repo}&lt;/b&gt;&lt;br&gt;{kind}&lt;br&gt;{what}&lt;br&gt;上下文长度：{ctx} 个 token · 模板：{template}&lt;br&gt;许可：{licence}&lt;br&gt;&lt;i&gt;{sizes}&lt;/i&gt;</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="316"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="323"/>
        <source>(every file of the repository)</source>
        <translation>（仓库中的全部文件）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="325"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="325"/>
        <source>Download all files</source>
        <translation>下载全部文件</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="346"/>
        <source>Verifying…</source>
        <translation>正在校验…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="359"/>
        <source>Nothing of this model is on disk.</source>
        <translation>磁盘上没有这个模型的文件。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="363"/>
        <source>Damaged or missing: {0}. Download them again.</source>
        <translation>已损坏或缺失：{0}。请重新下载。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="365"/>
        <source>{0} file(s) checked: each matches the hub&apos;s SHA-256.</source>
        <translation>已校验 {0} 个文件：均与模型库的 SHA-256 一致。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="418"/>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="419"/>
        <source>Downloading {0}: {1}%</source>
        <translation>正在下载 {0}：{1}%</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="421"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="422"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="423"/>
        <source>Verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="424"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../app/controllers/hub.py" line="473"/>
        <source>The weights are in {0}. Converting them to GGUF comes with the convert wizard.</source>
        <translation>权重位于 {0}。转换为 GGUF 的功能将随转换向导提供。</translation>
    </message>
</context>
<context>
    <name>HubDialog</name>
    <message>
        <location filename="../../app/views/hub_view.py" line="68"/>
        <source>Get models</source>
        <translation>获取模型</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="72"/>
        <source>Find any GGUF model on the hub by name</source>
        <translation>按名称在模型库中查找任意 GGUF 模型</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="74"/>
        <source>Search the hub</source>
        <translation>搜索模型库</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="76"/>
        <source>Hub settings…</source>
        <translation>模型库设置…</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="87"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="87"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="87"/>
        <location filename="../../app/views/hub_view.py" line="103"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="87"/>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="87"/>
        <location filename="../../app/views/hub_view.py" line="105"/>
        <source>On disk</source>
        <translation>已在磁盘上</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="101"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="102"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="104"/>
        <source>Memory · speed here</source>
        <translation>内存 · 本机速度</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="111"/>
        <source>The memory the model would take and how fast it would answer on this computer, planned before the download. Marked when it would not fit or answer slower than one reads.</source>
        <translation>下载前估算的该模型在本机所占内存和回答速度。内存不够或回答慢于阅读速度时会标出。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="117"/>
        <location filename="../../app/views/hub_view.py" line="163"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="120"/>
        <source>Verify files on disk</source>
        <translation>校验磁盘上的文件</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="124"/>
        <location filename="../../app/views/hub_view.py" line="373"/>
        <source>Merge with LLaMA weights…</source>
        <translation>与 LLaMA 权重合并…</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="127"/>
        <source>Speed up with the 1.3B model</source>
        <translation>用 1.3B 模型提速</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="130"/>
        <source>Download the 1.3B model of the same family and make it the draft model: it guesses the next tokens and this model checks them, the same text, often faster.</source>
        <translation>下载同一系列的 1.3B 模型并设为草稿模型：它猜测接下来的词元，由本模型核对，文本不变，通常更快。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="163"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="163"/>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="163"/>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="163"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="167"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="168"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="169"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="170"/>
        <location filename="../../app/views/hub_view.py" line="371"/>
        <source>Chat with it</source>
        <translation>用它对话</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="186"/>
        <source>&lt;b&gt;Downloads&lt;/b&gt;</source>
        <translation>&lt;b&gt;下载&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_view.py" line="375"/>
        <source>Convert to GGUF…</source>
        <translation>转换为 GGUF…</translation>
    </message>
</context>
<context>
    <name>HubSettingsDialog</name>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="43"/>
        <source>Model hub settings</source>
        <translation>模型库设置</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="47"/>
        <source>https://huggingface.co, or a mirror such as https://hf-mirror.com. Applied at once.</source>
        <translation>https://huggingface.co，或镜像站点如 https://hf-mirror.com。立即生效。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="50"/>
        <source>Empty: the system&apos;s proxy settings</source>
        <translation>留空：使用系统代理设置</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="53"/>
        <source>Only for gated models; empty keeps the saved token</source>
        <translation>仅用于需授权的模型；留空则保留已保存的令牌</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="54"/>
        <source>Remove the token saved for this hub</source>
        <translation>删除为此模型库保存的令牌</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="57"/>
        <source>The token is kept by the operating system&apos;s keyring, never in a file, and is sent only to the hub address it was saved for.</source>
        <translation>令牌保存在操作系统的密钥环中，绝不写入文件，并且只会发送给保存时对应的模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="64"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="69"/>
        <source>Offline mode: make no network connection at all</source>
        <translation>离线模式：完全不建立任何网络连接</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="70"/>
        <source>Keep downloading in the tray when the window is closed</source>
        <translation>关闭窗口后在系统托盘中继续下载</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="73"/>
        <source>Where the desktop has no system tray, or with this off, closing the window while downloads run asks first; stopped downloads resume the next time you start Alpaca Desk.</source>
        <translation>桌面没有系统托盘或关闭此项时，在下载进行中关闭窗口会先询问；停止的下载会在下次启动 Alpaca Desk 时继续。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="83"/>
        <source>Hub address</source>
        <translation>模型库地址</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="84"/>
        <source>Proxy</source>
        <translation>代理</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="85"/>
        <source>Access token</source>
        <translation>访问令牌</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="88"/>
        <location filename="../../app/views/hub_settings_view.py" line="150"/>
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="94"/>
        <source>No request has been made.</source>
        <translation>尚未发出任何请求。</translation>
    </message>
    <message>
        <location filename="../../app/views/hub_settings_view.py" line="101"/>
        <source>&lt;b&gt;Network log&lt;/b&gt;: every request Alpaca Desk made (newest last)</source>
        <translation>&lt;b&gt;网络日志&lt;/b&gt;：Alpaca Desk 发出的每个请求（最新的在最后）</translation>
    </message>
</context>
<context>
    <name>LoraMergeController</name>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="101"/>
        <source>Checking that this computer has what merging needs…</source>
        <extracomment>The Python whose train extra is checked (None: this one). Tests point it at one without.</extracomment>
        <translation>正在检查本机是否具备合并所需的组件…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="127"/>
        <source>LLaMA (the folder above)</source>
        <translation>LLaMA（上面选择的文件夹）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="129"/>
        <source>on disk</source>
        <translation>已在磁盘上</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="129"/>
        <source>not downloaded</source>
        <translation>尚未下载</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="134"/>
        <source>The paper&apos;s recipe: this adapter is merged on top of {0}, which is merged into LLaMA first.</source>
        <translation>按论文的做法：此适配器合并在 {0} 之上，而后者先合并进 LLaMA。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="148"/>
        <source>Downloading the missing adapters; the merge can start when they are here.</source>
        <translation>正在下载缺少的适配器；下载完成后即可开始合并。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="175"/>
        <source>Checking {0}…</source>
        <translation>正在检查 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="196"/>
        <source>LLaMA, {layers} layers, hidden size {hidden}, {rows} tokens, {dtype}, {size}</source>
        <translation>LLaMA，{layers} 层，隐藏维度 {hidden}，{rows} 个词元，{dtype}，{size}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="226"/>
        <source>Choose a folder for the merged model.</source>
        <translation>请为合并后的模型选择一个文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="246"/>
        <source>The merged model takes about {0}; {1} is free there.</source>
        <translation>合并后的模型约占 {0}；该位置可用空间为 {1}。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="251"/>
        <source>Known when the LLaMA folder has been checked.</source>
        <translation>检查完 LLaMA 文件夹后即可得知。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="263"/>
        <source>Download the missing adapters first.</source>
        <translation>请先下载缺少的适配器。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="277"/>
        <source>Merging {0} into {1}…</source>
        <translation>正在将 {0} 合并进 {1}…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="286"/>
        <source>Merged into {0}. The convert wizard makes a GGUF file of it.</source>
        <translation>已合并到 {0}。转换向导会把它制作成 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/lora_merge.py" line="295"/>
        <source>The merge was cancelled; nothing was kept.</source>
        <translation>合并已取消；未保留任何文件。</translation>
    </message>
</context>
<context>
    <name>LoraMergeDialog</name>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="47"/>
        <source>Merge {0} with LLaMA weights</source>
        <translation>将 {0} 与 LLaMA 权重合并</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="51"/>
        <source>This repository holds LoRA weights only. They are merged into Meta&apos;s original LLaMA weights, in Hugging Face format (config.json, tokenizer.model and the weight files), to make a model that the convert wizard then turns into a GGUF file for chatting.</source>
        <translation>此仓库只含 LoRA 权重。它们需要合并进 Meta 原版 LLaMA 权重（Hugging Face 格式：config.json、tokenizer.model 和权重文件），得到的模型再由转换向导制作成可用于对话的 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="59"/>
        <source>The folder of the original LLaMA weights (Hugging Face format)</source>
        <translation>原版 LLaMA 权重所在的文件夹（Hugging Face 格式）</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="61"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="73"/>
        <source>Download the missing adapters</source>
        <translation>下载缺少的适配器</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="85"/>
        <source>LLaMA weights:</source>
        <translation>LLaMA 权重：</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="87"/>
        <source>Merge chain:</source>
        <translation>合并顺序：</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="88"/>
        <source>Merged model:</source>
        <translation>合并后的模型：</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="89"/>
        <source>Disk space:</source>
        <translation>磁盘空间：</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="102"/>
        <source>Merge</source>
        <translation>合并</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="105"/>
        <location filename="../../app/views/lora_merge_dialog.py" line="153"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="153"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/lora_merge_dialog.py" line="175"/>
        <source>The original LLaMA weights (Hugging Face format)</source>
        <translation>原版 LLaMA 权重（Hugging Face 格式）</translation>
    </message>
</context>
<context>
    <name>LossChart</name>
    <message>
        <location filename="../../app/views/loss_chart.py" line="46"/>
        <location filename="../../app/views/loss_chart.py" line="149"/>
        <source>training loss</source>
        <extracomment>Points kept; older ones are thinned (every other one dropped) so a long run stays cheap to draw.</extracomment>
        <translation>训练损失</translation>
    </message>
    <message>
        <location filename="../../app/views/loss_chart.py" line="48"/>
        <location filename="../../app/views/loss_chart.py" line="150"/>
        <location filename="../../app/views/loss_chart.py" line="161"/>
        <source>validation loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <location filename="../../app/views/loss_chart.py" line="50"/>
        <location filename="../../app/views/loss_chart.py" line="151"/>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location filename="../../app/views/loss_chart.py" line="101"/>
        <source>The loss appears here once the run reports.</source>
        <translation>运行开始报告后，这里会显示损失。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/main_window.py" line="60"/>
        <source>Alpaca Desk</source>
        <translation>Alpaca Desk</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="89"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="91"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="126"/>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="131"/>
        <source>Cancel loading</source>
        <translation>取消加载</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="145"/>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="146"/>
        <source>The messages of the conversation shown, oldest first.</source>
        <translation>当前对话的消息，最早的在前。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="147"/>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="150"/>
        <source>Type a message. Enter sends it, Shift+Enter starts a new line, Esc stops an answer or cancels an edit.</source>
        <translation>输入消息。Enter 发送，Shift+Enter 换行，Esc 停止回答或取消编辑。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="153"/>
        <source>Send the message to the model (Enter).</source>
        <translation>把消息发送给模型（Enter）。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="154"/>
        <source>Stop the answer being written (Esc).</source>
        <translation>停止正在生成的回答（Esc）。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="155"/>
        <source>Saved conversations</source>
        <translation>已保存的对话</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="156"/>
        <source>Decoding settings</source>
        <translation>解码设置</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="157"/>
        <source>Tokenizer panel</source>
        <translation>分词器面板</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="158"/>
        <source>Loading the model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="159"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="160"/>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="162"/>
        <source>How much of the model&apos;s context window the conversation fills, in tokens.</source>
        <translation>对话占用了模型上下文窗口的多少（以 token 计）。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="164"/>
        <source>Answer speed</source>
        <translation>回答速度</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="166"/>
        <source>How fast the last answer was written, in tokens per second.</source>
        <translation>上一个回答的生成速度（每秒 token 数）。</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="22"/>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="23"/>
        <source>&amp;Open model file…</source>
        <translation>打开模型文件(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="26"/>
        <source>&amp;Get models…</source>
        <translation>获取模型(&amp;G)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="28"/>
        <source>Recent models</source>
        <translation>最近使用的模型</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="30"/>
        <source>&amp;Unload model</source>
        <translation>卸载模型(&amp;U)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="33"/>
        <source>&amp;Convert and quantize my weights…</source>
        <translation>转换并量化我的权重(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="36"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="40"/>
        <source>&amp;Conversation</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="41"/>
        <source>&amp;New conversation</source>
        <translation>新建对话(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="44"/>
        <source>&amp;Search conversations</source>
        <translation>搜索对话(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="48"/>
        <source>&amp;Write a message</source>
        <translation>输入消息(&amp;W)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="53"/>
        <source>S&amp;top the answer</source>
        <translation>停止回答(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="57"/>
        <source>&amp;Copy the last answer</source>
        <translation>复制上一个回答(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="61"/>
        <source>Export as &amp;Markdown…</source>
        <translation>导出为 Markdown(&amp;M)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="63"/>
        <source>Export as &amp;JSON…</source>
        <translation>导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="65"/>
        <source>&amp;Import from JSON…</source>
        <translation>从 JSON 导入(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="68"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="69"/>
        <source>&amp;Decoding panel</source>
        <translation>解码参数面板(&amp;D)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="73"/>
        <source>&amp;Tokenizer panel</source>
        <translation>分词器面板(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="78"/>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="79"/>
        <source>&amp;Extend a vocabulary…</source>
        <translation>扩充词表(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="81"/>
        <source>Training &amp;hosts (SSH)…</source>
        <translation>训练主机(SSH)(&amp;H)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="83"/>
        <source>&amp;Advanced: LoRA training…</source>
        <translation>高级：LoRA 训练(&amp;A)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="86"/>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="87"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="90"/>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="98"/>
        <source>&amp;Appearance</source>
        <translation>外观(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="102"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="103"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="104"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="113"/>
        <source>&amp;Model hub…</source>
        <translation>模型库(&amp;M)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="116"/>
        <source>&amp;Local server…</source>
        <translation>本地服务器(&amp;L)…</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="119"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="121"/>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <location filename="../../app/menus.py" line="124"/>
        <source>&amp;About Alpaca Desk</source>
        <translation>关于 Alpaca Desk(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="296"/>
        <source>No model is installed yet. Get a Chinese-Alpaca model for this computer from the catalogue.</source>
        <translation>尚未安装任何模型。请从模型目录中为这台电脑获取一个 Chinese-Alpaca 模型。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="297"/>
        <source>Get models…</source>
        <translation>获取模型…</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="380"/>
        <source>Stop the answer before switching the language.</source>
        <translation>请先停止生成回答，再切换语言。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="498"/>
        <source>There is no answer to copy yet.</source>
        <translation>还没有可复制的回答。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="502"/>
        <source>The last answer was copied.</source>
        <translation>已复制上一个回答。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="514"/>
        <source>About Alpaca Desk</source>
        <translation>关于 Alpaca Desk</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="510"/>
        <source>&lt;b&gt;Alpaca Desk&lt;/b&gt; {0}&lt;br&gt;Chat offline with Chinese-LLaMA and Chinese-Alpaca models (Cui, Yang and Yao, arXiv 2304.08177) through llama.cpp.&lt;br&gt;&lt;br&gt;Your conversations stay on this computer: nothing is sent anywhere.</source>
        <translation>&lt;b&gt;Alpaca Desk&lt;/b&gt; {0}&lt;br&gt;通过 llama.cpp 离线使用 Chinese-LLaMA 和 Chinese-Alpaca 模型对话（Cui、Yang 和 Yao，arXiv 2304.08177）。&lt;br&gt;&lt;br&gt;你的对话只保存在这台电脑上，不会发送到任何地方。</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="515"/>
        <source>Third-party licences…</source>
        <translation>第三方许可证…</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="519"/>
        <source>Third-party licences</source>
        <translation>第三方许可证</translation>
    </message>
    <message>
        <location filename="../../app/main_window.py" line="526"/>
        <source>Something went wrong inside Alpaca Desk ({0}). Please report it.</source>
        <translation>Alpaca Desk 内部出错（{0}）。请报告此问题。</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <location filename="../../app/views/chat_view.py" line="81"/>
        <source>Your message</source>
        <extracomment>An answer read out to a screen reader when it completes is cut after this many characters.</extracomment>
        <translation>你的消息</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="81"/>
        <source>Answer</source>
        <translation>回答</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="92"/>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="92"/>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="98"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="98"/>
        <source>Copy this message</source>
        <translation>复制这条消息</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="102"/>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="102"/>
        <source>Edit this message and resend it</source>
        <translation>编辑这条消息并重新发送</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="105"/>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="105"/>
        <source>Write a new answer</source>
        <translation>重新生成一个回答</translation>
    </message>
    <message>
        <location filename="../../app/views/chat_view.py" line="173"/>
        <source>… {0:,} more characters not shown; Copy copies the whole message.</source>
        <translation>… 另有 {0:,} 个字符未显示；“复制”会复制整条消息。</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../../app/messages.py" line="22"/>
        <source>Model file not found: {path}. Check the path, or choose another file.</source>
        <translation>找不到模型文件：{path}。请检查路径，或选择其他文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="25"/>
        <source>{path} is a folder, not a model file. Choose the .gguf file inside it (a Hugging Face folder must first be converted to GGUF).</source>
        <translation>{path} 是一个文件夹，不是模型文件。请选择其中的 .gguf 文件（Hugging Face 格式的文件夹需要先转换为 GGUF）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="30"/>
        <source>{path} is a symbolic link that leads back to itself (a loop), not a model file. Choose the model file itself, or fix the link.</source>
        <translation>{path} 是一个指回自身的符号链接（循环），不是模型文件。请选择模型文件本身，或修复这个链接。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="35"/>
        <source>{path} is not a regular file (a named pipe, a device or a socket cannot be a model). Choose a .gguf model file.</source>
        <translation>{path} 不是普通文件（命名管道、设备或套接字不能作为模型）。请选择一个 .gguf 模型文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="40"/>
        <source>llama.cpp stopped on {name} with a failed check ({assertion}) and ended the {job} job. The file is damaged or unusual: download it again, or choose another model.</source>
        <translation>llama.cpp 处理 {name} 时检查失败（{assertion}），{job} 任务已终止。该文件已损坏或不寻常：请重新下载，或选择其他模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="45"/>
        <source>Cannot read {path}: {reason}. Check the file&apos;s permissions.</source>
        <translation>无法读取 {path}：{reason}。请检查文件权限。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="48"/>
        <source>{name} is empty (0 bytes). Download the model again.</source>
        <translation>{name} 是空文件（0 字节）。请重新下载模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="49"/>
        <source>{name} is an old {format} model file (the format llama.cpp used before August 2023), which llama.cpp no longer reads. Download the GGUF version of this model, or convert the original weights to GGUF.</source>
        <translation>{name} 是旧的 {format} 格式模型文件（llama.cpp 在 2023 年 8 月之前使用的格式），llama.cpp 已不再支持。请下载该模型的 GGUF 版本，或将原始权重转换为 GGUF。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="55"/>
        <source>{name} is not a GGUF model file (it does not start with the GGUF signature). Choose a .gguf file.</source>
        <translation>{name} 不是 GGUF 模型文件（文件开头没有 GGUF 标识）。请选择 .gguf 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="59"/>
        <source>There is not enough memory to read {name}&apos;s header (mapping the file failed). Close other programs, or raise this session&apos;s memory limit, and load it again.</source>
        <translation>内存不足，无法读取 {name} 的文件头（映射文件失败）。请关闭其他程序，或提高本会话的内存限制，然后重新加载。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="63"/>
        <source>{name} looks like GGUF but its header cannot be read. The file is probably truncated or damaged: download it again and compare its size or SHA-256 with the source.</source>
        <translation>{name} 看起来是 GGUF 文件，但无法读取文件头。文件可能不完整或已损坏：请重新下载，并核对文件大小或 SHA-256。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="68"/>
        <source>{name} is truncated: its tensors need {need} bytes but the file has {have}. The download probably stopped early: download it again.</source>
        <translation>{name} 不完整：张量需要 {need} 字节，但文件只有 {have} 字节。下载可能中途停止了，请重新下载。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="73"/>
        <source>{name} with a context of {n_ctx} tokens and an {kv} KV cache needs about {need_gb} GB of memory (weights {weights_gb} GB, KV cache {kv_gb} GB), and {free_gb} GB is free. Choose a smaller context, a q8_0 or q4_0 KV cache, or a smaller model, or close other programs.</source>
        <translation>{name} 在 {n_ctx} 个词元的上下文和 {kv} KV 缓存下约需 {need_gb} GB 内存（权重 {weights_gb} GB，KV 缓存 {kv_gb} GB），而可用内存只有 {free_gb} GB。请选择更小的上下文、q8_0 或 q4_0 KV 缓存或更小的模型，或关闭其他程序。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="77"/>
        <source>{draft} cannot draft for {model}: their vocabularies differ ({difference}). A draft model must share the model&apos;s vocabulary: choose a smaller model of the same family.</source>
        <translation>{draft} 无法为 {model} 起草：两者的词表不同（{difference}）。草稿模型必须与模型使用相同的词表：请选择同一系列中更小的模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="82"/>
        <source>Speculative decoding with a draft model needs a draft model: load one first (--draft FILE).</source>
        <translation>使用草稿模型的推测解码需要一个草稿模型：请先加载一个（--draft FILE）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="86"/>
        <source>The KV cache type {kv} is not one of {known}. Choose one of them.</source>
        <translation>KV 缓存类型 {kv} 不在 {known} 之中。请从中选择一种。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="89"/>
        <source>{name} is damaged or unusual: {field} {problem}. Alpaca Desk cannot use this file: download it again and compare its size or SHA-256 with the source, or choose another model.</source>
        <translation>{name} 已损坏或格式异常：元数据 {field} 的值无法使用（{problem}）。Alpaca Desk 无法使用此文件：请重新下载，并将文件大小或 SHA-256 与来源核对，或选择其他模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="94"/>
        <source>llama.cpp could not load {name} (architecture &apos;{arch}&apos;). The file may be damaged or use an architecture this llama.cpp does not support: download it again, or choose another model.</source>
        <translation>llama.cpp 无法加载 {name}（架构“{arch}”）。文件可能已损坏，或使用了当前 llama.cpp 不支持的架构：请重新下载，或选择其他模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="99"/>
        <source>No model is loaded. Open a GGUF model file first.</source>
        <translation>尚未加载模型。请先打开一个 GGUF 模型文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="100"/>
        <source>The message needs {n_tokens} prompt tokens and the answer up to {max_tokens} new tokens, but the context holds only {n_ctx} tokens, even with all earlier messages left out. Shorten the message, lower max new tokens, or raise the context size.</source>
        <translation>即使省略所有较早的消息，这条消息仍需要 {n_tokens} 个提示词 token，回答最多 {max_tokens} 个新 token，但上下文只能容纳 {n_ctx} 个 token。请缩短消息、降低最大生成长度，或增大上下文长度。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="106"/>
        <source>The context of {n_ctx} tokens is full: this message would leave earlier turns out of the prompt, and you chose to stop instead. Your message is kept. Start a new conversation, or raise the context size (or choose to leave out the oldest turns) in the decoding panel.</source>
        <translation>{n_ctx} 个词元的上下文已满：发送这条消息需要从提示中省略较早的轮次，而你选择了在此时停止。你的消息已保留。请新建对话，或在解码面板中调大上下文长度（或改为省略最早的轮次）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="112"/>
        <source>The {label} tokenizer is not on this computer (the copy Alpaca Desk ships is missing: reinstall to get it back). Add it by opening its tokenizer.model file (or a GGUF model that uses it), or fetch it from the Hugging Face hub ({repo}).</source>
        <translation>本机没有 {label} 分词器（Alpaca Desk 自带的副本不见了：重新安装即可恢复）。请打开它的 tokenizer.model 文件（或使用它的 GGUF 模型）来添加，或从 Hugging Face Hub（{repo}）获取。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="118"/>
        <source>No tokenizer at {path}: the file does not exist. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.</source>
        <translation>{path} 处没有分词器：文件不存在。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="123"/>
        <source>{path} is empty, so it is not a tokenizer. Choose a tokenizer.model file or a GGUF model.</source>
        <translation>{path} 是空文件，不是分词器。请选择 tokenizer.model 文件或 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="126"/>
        <source>{path} is not a SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.</source>
        <translation>{path} 不是 SentencePiece 分词器。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="131"/>
        <source>{path} is {size_mb} MB, far larger than any tokenizer. Choose a tokenizer.model file.</source>
        <translation>{path} 有 {size_mb} MB，远大于任何分词器。请选择 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="134"/>
        <source>{path} could not be opened as a tokenizer. Choose a tokenizer.model file or a GGUF model.</source>
        <translation>无法将 {path} 作为分词器打开。请选择 tokenizer.model 文件或 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="137"/>
        <source>{path} has no vocabulary, so it cannot count tokens. Choose the tokenizer.model that belongs to this model instead.</source>
        <translation>{path} 不含词表，无法统计 token。请改为选择该模型对应的 tokenizer.model。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="142"/>
        <source>The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. Chinese-LLaMA (49,953) and Chinese-Alpaca (49,954: the same vocabulary plus a pad token) must not be mixed: merging LoRA weights or converting the model fails. Use the tokenizer that came with these weights.</source>
        <translation>分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行。Chinese-LLaMA（49,953）与 Chinese-Alpaca（49,954：同一词表加一个 pad token）不能混用：合并 LoRA 权重或转换模型会失败。请使用与这些权重配套的分词器。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="148"/>
        <source>The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows: the original LLaMA vocabulary (32,000) against the extended Chinese one (49,953, or 49,954 for Alpaca). Mixing them breaks merging and conversion.</source>
        <translation>分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行：这是原版 LLaMA 词表（32,000）与扩充后的中文词表（49,953，Alpaca 为 49,954）的混用，会导致合并和转换失败。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="154"/>
        <source>The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. They must be equal for merging and conversion; use the tokenizer that belongs to these weights.</source>
        <translation>分词器有 {tokenizer} 个词元，但模型的词嵌入有 {rows} 行。合并和转换要求两者相等，请使用与这些权重配套的分词器。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="159"/>
        <source>The corpus {path} does not exist or cannot be read. Choose a UTF-8 text file.</source>
        <translation>语料 {path} 不存在或无法读取。请选择 UTF-8 文本文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="163"/>
        <source>The corpus {path} is empty. Choose a UTF-8 text file with the text to learn from.</source>
        <translation>语料 {path} 是空的。请选择包含训练文本的 UTF-8 文本文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="167"/>
        <source>A vocabulary of {size} pieces is too small for {path}: its characters alone need {required}. Choose a larger size, or lower the character coverage.</source>
        <translation>{size} 个词元的词表对 {path} 来说太小：仅其中的字符就需要 {required} 个。请选择更大的词表，或降低字符覆盖率。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="171"/>
        <source>{path} is too small for a vocabulary of {size} pieces: at most {largest} can be learned from it. Choose a smaller size, or use a larger corpus.</source>
        <translation>{path} 太小，学不出 {size} 个词元：最多只能学到 {largest} 个。请选择更小的词表，或使用更大的语料。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="175"/>
        <source>Training a vocabulary on {path} failed: {detail}</source>
        <translation>在 {path} 上训练词表失败：{detail}</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="179"/>
        <source>There is no known tokenizer with that name. Choose a tokenizer.model file instead.</source>
        <translation>没有这个名称的已知分词器。请改为选择 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="183"/>
        <source>{path} has {size} pieces, not the {expected} of the {label} tokenizer; it was not used. Open the right tokenizer.model file instead.</source>
        <translation>{path} 有 {size} 个词元，而不是 {label} 分词器的 {expected} 个，因此未使用。请打开正确的 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="187"/>
        <source>{path} cannot be used with the {pieces} pieces of the tokenizer.model beside it ({reason}). Put there the tokenizer.model and added_tokens.json that were saved together; training did not start.</source>
        <translation>{path} 无法与旁边有 {pieces} 个词元的 tokenizer.model 一起使用（{reason}）。请放入一同保存的 tokenizer.model 和 added_tokens.json；训练未开始。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="191"/>
        <source>The folder {path} has no tokenizer.model. Choose a folder that holds one, or the tokenizer.model or GGUF file itself.</source>
        <translation>文件夹 {path} 中没有 tokenizer.model。请选择包含它的文件夹，或直接选择 tokenizer.model 或 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="195"/>
        <source>Could not fetch the {label} tokenizer from the Hugging Face hub ({repo}). Check the connection and try again, or open its tokenizer.model file.</source>
        <translation>无法从 Hugging Face Hub（{repo}）获取 {label} 分词器。请检查网络后重试，或打开它的 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="199"/>
        <source>Cannot read {path}. Check the file&apos;s permissions.</source>
        <translation>无法读取 {path}。请检查文件权限。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="203"/>
        <source>{path} is not a usable SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.</source>
        <translation>{path} 不是可用的 SentencePiece 分词器。请选择 tokenizer.model 文件、Hugging Face 分词器文件夹或 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="207"/>
        <source>{path} is not a readable GGUF file; it may be truncated. Download it again, or choose a tokenizer.model file.</source>
        <translation>{path} 不是可读的 GGUF 文件，可能不完整。请重新下载，或选择 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="211"/>
        <source>{path} has a {kind} vocabulary; only SentencePiece vocabularies (as in LLaMA and Chinese-LLaMA/Alpaca) can be compared here. Choose a tokenizer.model file.</source>
        <translation>{path} 使用 {kind} 词表；这里只能比较 SentencePiece 词表（如 LLaMA 和 Chinese-LLaMA/Alpaca）。请选择 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="215"/>
        <source>The background job ended unexpectedly; the file it was working on was removed. Try again; if it happens again, see the log.</source>
        <translation>后台任务意外结束，正在写入的文件已删除。请重试；若再次发生，请查看日志。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="219"/>
        <source>The vocabulary size of {path} cannot be found. Choose a GGUF file or a Hugging Face model folder with a config.json.</source>
        <translation>无法确定 {path} 的词表大小。请选择 GGUF 文件，或含 config.json 的 Hugging Face 模型文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="223"/>
        <source>{path} is a folder, not a tokenizer file. Choose the tokenizer.model inside it, or a GGUF model.</source>
        <translation>{path} 是文件夹，不是分词器文件。请选择其中的 tokenizer.model，或一个 GGUF 模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="227"/>
        <source>The conversation database {path} is damaged or is not an Alpaca Desk database ({detail}). Restart Alpaca Desk: it keeps the damaged file aside, starts a new one and offers to recover the messages that can still be read.</source>
        <translation>对话数据库 {path} 已损坏，或不是 Alpaca Desk 的数据库（{detail}）。请重启 Alpaca Desk：它会把损坏的文件另外保留，新建一个数据库，并提供恢复仍可读取的消息。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="231"/>
        <source>The conversation database {path} is damaged ({detail}). It was kept as {kept} and new chats go to a new file in its place. Recover its messages to copy what can still be read.</source>
        <translation>对话数据库 {path} 已损坏（{detail}）。它已另存为 {kept}，新的对话会写入原位置的新文件。可以恢复其中的消息，把仍可读取的内容复制过来。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="235"/>
        <source>The damaged conversation database {path} does not exist any more; nothing to recover.</source>
        <translation>损坏的对话数据库 {path} 已不存在，没有可恢复的内容。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="239"/>
        <source>The setting &quot;{name}&quot; had the value {value}, which is not valid; the default {default} is used.</source>
        <translation>设置“{name}”的值 {value} 无效，已改用默认值 {default}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="243"/>
        <source>The setting &quot;{name}&quot; had entries that are not file paths ({value}); they were left out.</source>
        <translation>设置“{name}”中有不是文件路径的条目（{value}），已将其略去。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="247"/>
        <source>The settings file {path} could not be read ({reason}). It was kept as {kept} and the default settings are used.</source>
        <translation>无法读取设置文件 {path}（{reason}）。它已另存为 {kept}，现使用默认设置。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="251"/>
        <source>The settings file {path} could not be read ({reason}) and could not be moved aside ({error}); the default settings are used.</source>
        <translation>无法读取设置文件 {path}（{reason}），也无法将其另存（{error}）；现使用默认设置。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="255"/>
        <source>{path} was not read: it is larger than the {limit} bytes such a file may have. Replace it with a good copy, or remove it.</source>
        <translation>未读取 {path}：它超过了此类文件允许的 {limit} 字节。请换成完好的副本，或将其删除。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="263"/>
        <source>{path} was not read: it is not JSON ({detail}). Replace it with a good copy, or remove it.</source>
        <translation>未读取 {path}：它不是 JSON（{detail}）。请换成完好的副本，或将其删除。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="267"/>
        <source>The download queue {path} could not be read ({reason}). It was kept as {kept}; start the downloads that were waiting again from the model hub.</source>
        <translation>无法读取下载队列 {path}（{reason}）。它已另存为 {kept}；请从模型库重新开始之前等待中的下载。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="271"/>
        <source>The log folder {path} cannot be written ({reason}); Alpaca Desk runs without a log file.</source>
        <translation>无法写入日志文件夹 {path}（{reason}）；Alpaca Desk 将在没有日志文件的情况下运行。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="351"/>
        <source>Cannot import {path}: it is {size_mib} MiB, and imports are limited to {limit_mib} MiB. Export the conversation in parts, or choose another file.</source>
        <translation>无法导入 {path}：文件大小为 {size_mib} MiB，导入上限为 {limit_mib} MiB。请分段导出对话，或选择其他文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="355"/>
        <source>Cannot read {path}: {detail}. Check the file and try again.</source>
        <translation>无法读取 {path}：{detail}。请检查文件后重试。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="359"/>
        <source>A host called {name} is already saved; choose another name or remove it first.</source>
        <translation>已保存名为 {name} 的主机；请换一个名称，或先删除它。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="363"/>
        <source>Host {name}: {field} {reason}.</source>
        <translation>主机 {name}：{field} {reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="367"/>
        <source>No saved host is called {name}. Add it in Training hosts.</source>
        <translation>没有名为 {name} 的已保存主机。请在“训练主机”中添加。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="371"/>
        <source>The saved SSH hosts file {path} {reason}; no hosts were loaded. It was kept aside.</source>
        <translation>已保存的 SSH 主机文件 {path} {reason}；未载入任何主机。该文件已另存保留。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="375"/>
        <source>The known-hosts file {path} is not one Alpaca Desk wrote. Move it away and accept the host keys again.</source>
        <translation>已知主机文件 {path} 不是 Alpaca Desk 写入的。请将其移走，然后重新接受主机密钥。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="379"/>
        <source>A command on {name} failed: {reason}.</source>
        <translation>在 {name} 上执行命令失败：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="383"/>
        <source>Cannot download {path} from {name}: {reason}.</source>
        <translation>无法从 {name} 下载 {path}：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="387"/>
        <source>{path} is missing from this installation, so no job can be started on a host. Reinstall Alpaca Desk.</source>
        <translation>本安装中缺少 {path}，因此无法在主机上启动任务。请重新安装 Alpaca Desk。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="391"/>
        <source>{name} has no room for the job: {path} has {free} MB free and the job needs {needed} MB more. Free some space there, or give the host another jobs folder, then start the run again.</source>
        <translation>{name} 没有空间存放该任务：{path} 只剩 {free} MB，而任务还需要 {needed} MB。请在那里腾出空间，或为该主机另选一个任务文件夹，然后重新启动运行。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="395"/>
        <source>There is no remote run {job}, or its folder on the host is gone.</source>
        <translation>没有远程运行 {job}，或它在主机上的文件夹已不存在。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="399"/>
        <source>The remote run {job} was started already ({state}).</source>
        <translation>远程运行 {job} 已经启动过（{state}）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="403"/>
        <source>{name} has no usable Python at {python} ({found}). Install Python 3.8 or newer there, or set the host&apos;s Python to its full path.</source>
        <translation>{name} 上的 {python} 不是可用的 Python（{found}）。请在该主机上安装 Python 3.8 或更高版本，或将主机的 Python 设置为其完整路径。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="407"/>
        <source>The remote job cannot be sent: {reason}.</source>
        <translation>无法发送远程任务：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="411"/>
        <source>The job could not start on {name}: {reason}.</source>
        <translation>任务无法在 {name} 上启动：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="415"/>
        <source>Uploading the job to {name} failed: {reason}. Check the free space and permissions of {path} on the host, then start it again.</source>
        <translation>向 {name} 上传任务失败：{reason}。请检查主机上 {path} 的剩余空间和权限，然后重新启动。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="419"/>
        <source>{name} refused the login as {user}. Check the user name, that the public key is in ~/.ssh/authorized_keys on the host, and the passphrase.</source>
        <translation>{name} 拒绝以 {user} 身份登录。请检查用户名、主机上 ~/.ssh/authorized_keys 中是否有该公钥，以及密钥口令。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="423"/>
        <source>{name} did not finish {action} within {seconds} s.</source>
        <translation>{name} 未在 {seconds} 秒内完成操作（{action}）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="427"/>
        <source>Cannot connect to {name} at {address}:{port}: {reason}. Check the address and port, and that the host is on and reachable.</source>
        <translation>无法连接到 {name}（{address}:{port}）：{reason}。请检查地址和端口，并确认主机已开机且可以访问。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="431"/>
        <source>The connection to {name} was lost while {action}.</source>
        <translation>与 {name} 的连接中断（正在进行：{action}）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="435"/>
        <source>The host key to accept for {name} cannot be read.</source>
        <translation>无法读取要为 {name} 接受的主机密钥。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="439"/>
        <source>The host key of {name} ({address}:{port}) has changed: it is now {fingerprint}. Someone may be intercepting the connection, or the host was reinstalled. Nothing was sent. If the administrator confirms the new key, forget the old one and accept the new one.</source>
        <translation>{name}（{address}:{port}）的主机密钥已改变：现在是 {fingerprint}。可能有人在拦截连接，或主机已重装。未发送任何内容。如果管理员确认了新密钥，请先忘记旧密钥，再接受新密钥。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="443"/>
        <source>{name} presents the key {fingerprint}, not {expected}; nothing was accepted.</source>
        <translation>{name} 出示的密钥是 {fingerprint}，而不是 {expected}；未接受任何密钥。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="447"/>
        <source>The host key of {name} ({address}:{port}) is not known yet. Its fingerprint is {fingerprint}. Compare it with the one the host&apos;s administrator gives and accept it only if they match.</source>
        <translation>尚不认识 {name}（{address}:{port}）的主机密钥。其指纹为 {fingerprint}。请与主机管理员提供的指纹核对，只有一致时才接受。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="451"/>
        <source>The key file {path} of {name} cannot be used: {reason}. Choose another key file in the host&apos;s settings.</source>
        <translation>无法使用 {name} 的密钥文件 {path}：{reason}。请在主机设置中选择其他密钥文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="455"/>
        <source>The key file {path} of {name} is protected by a passphrase: enter it.</source>
        <translation>{name} 的密钥文件 {path} 受口令保护：请输入口令。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="459"/>
        <source>The local server would listen on {host}, where other computers can reach it, without an API key. Turn on “Require the API key”, or use the address 127.0.0.1.</source>
        <translation>本地服务器将在 {host} 上监听，其他电脑可以访问该地址，却没有 API 密钥。请开启“要求提供 API 密钥”，或使用地址 127.0.0.1。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="463"/>
        <source>The port {port} is not one the local server can use: choose a port from 1 to 65535 (0 takes any free one).</source>
        <translation>本地服务器无法使用端口 {port}：请选择 1 到 65535 之间的端口（0 表示任意空闲端口）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="467"/>
        <source>The address {host} is not one this computer has; enter an IP address such as 127.0.0.1.</source>
        <translation>本机没有地址 {host}；请输入一个 IP 地址，例如 127.0.0.1。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="471"/>
        <source>The local server cannot listen on {host}:{port}: another program may use that port. Choose another port in Settings → Local server.</source>
        <translation>本地服务器无法在 {host}:{port} 上监听：可能有其他程序占用了该端口。请在“设置 → 本地服务器”中选择其他端口。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="475"/>
        <source>The hub address {endpoint} is not an http:// or https:// address of a server. Enter one like https://huggingface.co, or a mirror&apos;s address.</source>
        <translation>模型库地址 {endpoint} 不是 http:// 或 https:// 服务器地址。请输入如 https://huggingface.co 的地址或镜像站点地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="479"/>
        <source>Offline mode is on, so nothing was asked of the hub. Turn offline mode off in Settings → Model hub to download models or refresh the catalogue.</source>
        <translation>离线模式已开启，因此没有向模型库发送任何请求。要下载模型或刷新目录，请在“设置 → 模型库”中关闭离线模式。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="483"/>
        <source>{repo} is gated on {endpoint}: accept its licence on the hub&apos;s page, then save an access token for this hub in Settings → Model hub.</source>
        <translation>{repo} 在 {endpoint} 上需要授权：请先在模型库页面上接受其许可协议，然后在“设置 → 模型库”中为此模型库保存访问令牌。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="487"/>
        <source>{repo} was not found on {endpoint}. Check the name, or the hub address in Settings → Model hub.</source>
        <translation>在 {endpoint} 上找不到 {repo}。请检查名称，或“设置 → 模型库”中的模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="491"/>
        <source>The hub {endpoint} could not be reached for {repo}: {detail}. Check the network, the proxy and the hub address in Settings → Model hub, or try a mirror.</source>
        <translation>无法连接模型库 {endpoint} 获取 {repo}：{detail}。请检查网络、代理和“设置 → 模型库”中的地址，或改用镜像站点。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="495"/>
        <source>The hub&apos;s address {host} cannot be resolved ({reason}), so {what} cannot be asked of it: this computer looks offline, or its name server blocks the hub. Turn on offline mode in Settings → Model hub to use only the models you have, or enter a mirror&apos;s address there.</source>
        <translation>无法解析模型仓库的地址 {host}（{reason}），因此无法进行此操作（{what}）：这台电脑似乎已离线，或者它的域名服务器屏蔽了该仓库。可在“设置 → 模型仓库”中开启离线模式，只使用已有的模型，或在那里填写镜像地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="499"/>
        <source>The hub {endpoint} answered with a file list for {repo} that cannot be read. Try again later, or another hub address.</source>
        <translation>模型库 {endpoint} 返回的 {repo} 文件列表无法读取。请稍后重试，或换一个模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="503"/>
        <source>The hub {endpoint} kept sending the list for {repo} with no end ({reason}); it was stopped. Try again later, or another hub address.</source>
        <translation>模型库 {endpoint} 返回的 {repo} 列表没有尽头（{reason}），已停止读取。请稍后重试，或换一个模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="507"/>
        <source>The access token could not be saved: this computer has no usable keyring ({detail}). Alpaca Desk never writes tokens to a plain file; install a keyring service (GNOME Keyring, KWallet) to save one.</source>
        <translation>无法保存访问令牌：这台电脑没有可用的密钥环（{detail}）。Alpaca Desk 绝不把令牌写入普通文件；请安装密钥环服务（GNOME Keyring、KWallet）后再保存。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="511"/>
        <source>That access token is not one: a hub token is a single word of letters and digits.</source>
        <translation>这不是有效的访问令牌：模型库令牌是由字母和数字组成的一个词。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="515"/>
        <source>{repo} is not a repository name: write it as ORGANISATION/NAME, e.g. hfl/chinese-alpaca-2-7b-gguf.</source>
        <translation>{repo} 不是仓库名称：请写成“组织/名称”，例如 hfl/chinese-alpaca-2-7b-gguf。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="519"/>
        <source>The hub listed a file named {name}, which would be written outside the model&apos;s folder. It was refused; nothing was written. Check the hub address in Settings → Model hub.</source>
        <translation>模型库列出了名为 {name} 的文件，它会被写到模型文件夹之外。已拒绝，没有写入任何内容。请检查“设置 → 模型库”中的地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="523"/>
        <source>{repo} has no file {name}. Refresh the catalogue and choose one of its files.</source>
        <translation>{repo} 中没有文件 {name}。请刷新目录并选择其中的文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="527"/>
        <source>The hub gave no checksum for {name}, so it could not be verified and was not downloaded. Try again later or another hub address.</source>
        <translation>模型库没有提供 {name} 的校验和，无法校验，因此没有下载。请稍后重试或换一个模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="531"/>
        <source>The model catalogue cannot be read ({reason}). Reinstall Alpaca Desk to restore it.</source>
        <translation>无法读取模型目录（{reason}）。请重新安装 Alpaca Desk 以恢复它。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="535"/>
        <source>The hub refused {name} (HTTP {status}). If the model is gated, accept its licence on the hub and save an access token for this hub in Settings → Model hub.</source>
        <translation>模型库拒绝了 {name}（HTTP {status}）。如果该模型需要授权，请在模型库上接受其许可协议，并在“设置 → 模型库”中为此模型库保存访问令牌。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="539"/>
        <source>The download of {name} failed repeatedly ({reason}). The {kept} already downloaded are kept and the next try resumes from there: check the network or the proxy, or try a mirror in Settings → Model hub.</source>
        <translation>{name} 的下载多次失败（{reason}）。已下载的 {kept} 会保留，下次会从那里继续：请检查网络或代理，或在“设置 → 模型库”中改用镜像站点。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="543"/>
        <source>{name} could not be written to {path} ({reason}). Check the models folder&apos;s permissions.</source>
        <translation>无法把 {name} 写入 {path}（{reason}）。请检查模型文件夹的权限。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="547"/>
        <source>{name} does not have the {size} bytes the hub announced; it was removed. Try again later or another hub address.</source>
        <translation>{name} 的大小与模型库声明的 {size} 字节不符，已删除。请稍后重试或换一个模型库地址。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="551"/>
        <source>Checksum mismatch: {name} is not the file the hub describes. The damaged file was removed; download it again.</source>
        <translation>校验和不匹配：{name} 与模型库描述的文件不一致。损坏的文件已删除，请重新下载。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="555"/>
        <source>The disk is full: {name} stopped after {kept}. What was downloaded is kept; free some space (or choose another models folder) and resume.</source>
        <translation>磁盘已满：{name} 在下载 {kept} 后停止。已下载的部分会保留；请释放空间（或选择其他模型文件夹）后继续。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="559"/>
        <source>Not enough disk space for {name}: it needs {needed} and {folder} has {free} free. Free some space or choose another models folder in Settings → Model hub.</source>
        <translation>磁盘空间不足以下载 {name}：需要 {needed}，而 {folder} 只有 {free} 可用。请释放空间，或在“设置 → 模型库”中选择其他模型文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="563"/>
        <source>{path} does not exist. Give the path of a downloaded model file or its folder.</source>
        <translation>{path} 不存在。请提供已下载的模型文件或其文件夹的路径。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="567"/>
        <source>{folder} is not a folder. Choose the folder the merge script wrote.</source>
        <translation>{folder} 不是文件夹。请选择合并脚本输出的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="570"/>
        <source>{folder} holds no model checkpoint: no config.json (Hugging Face) and no params.json with consolidated.*.pth (Meta&apos;s layout). Choose the folder the merge script wrote.</source>
        <translation>{folder} 中没有模型权重：既没有 config.json（Hugging Face），也没有 params.json 和 consolidated.*.pth（Meta 的格式）。请选择合并脚本输出的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="574"/>
        <source>{folder} has a config.json but no weights (model*.safetensors or pytorch_model*.bin). Copy the weight files into it.</source>
        <translation>{folder} 中有 config.json 但没有权重（model*.safetensors 或 pytorch_model*.bin）。请把权重文件复制进去。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="578"/>
        <source>This folder holds a {architecture} model; only LLaMA models (LlamaForCausalLM) such as Chinese-LLaMA and Chinese-Alpaca can be converted here.</source>
        <translation>该文件夹中是 {architecture} 模型；这里只能转换 LLaMA 模型（LlamaForCausalLM），例如 Chinese-LLaMA 和 Chinese-Alpaca。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="582"/>
        <source>{path} asks for code shipped with the model (auto_map / trust_remote_code). Alpaca Desk never runs code from a model folder; only plain LlamaForCausalLM checkpoints are converted.</source>
        <translation>{path} 要求运行模型附带的代码（auto_map / trust_remote_code）。Alpaca Desk 从不运行模型文件夹中的代码；只转换普通的 LlamaForCausalLM 权重。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="586"/>
        <source>{folder} has no usable tokenizer.model. Copy the tokenizer that came with these weights into the folder (for Chinese-LLaMA/Alpaca: the merged Chinese tokenizer).</source>
        <translation>{folder} 中没有可用的 tokenizer.model。请把这些权重附带的分词器复制到该文件夹（Chinese-LLaMA/Alpaca 使用合并后的中文分词器）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="590"/>
        <source>The tokenizer has {tokenizer} pieces but the weights have {rows} embedding rows: they do not belong together. Use the tokenizer that came with these weights (Alpaca&apos;s for Alpaca, LLaMA&apos;s for LLaMA). Nothing was converted.</source>
        <translation>分词器有 {tokenizer} 个词元，但权重的嵌入矩阵有 {rows} 行：二者不匹配。请使用这些权重附带的分词器（Alpaca 用 Alpaca 的，LLaMA 用 LLaMA 的）。没有进行任何转换。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="594"/>
        <source>Weight files of this checkpoint are missing or do not belong together. Copy the complete folder again.</source>
        <translation>该权重的部分文件缺失或彼此不匹配。请重新复制完整的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="598"/>
        <source>{path} is cut off or damaged. Copy or download this weight file again.</source>
        <translation>{path} 不完整或已损坏。请重新复制或下载这个权重文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="602"/>
        <source>{path} holds more than tensors: loading it would run code from the file, which Alpaca Desk never does. Use weights saved as safetensors, or from a source you trust.</source>
        <translation>{path} 中不只有张量：加载它会运行文件中的代码，Alpaca Desk 从不这样做。请使用保存为 safetensors 的权重，或来自可信来源的权重。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="606"/>
        <source>This checkpoint is stored as PyTorch pickles (.bin/.pth), which need PyTorch, and PyTorch is not installed here. Save the model as safetensors, or convert it with the command line where PyTorch is installed.</source>
        <translation>该权重以 PyTorch pickle（.bin/.pth）保存，读取需要 PyTorch，而这里没有安装 PyTorch。请把模型保存为 safetensors，或在安装了 PyTorch 的环境中用命令行转换。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="610"/>
        <source>A configuration file of this checkpoint is damaged or does not belong to it. Restore the folder from the model&apos;s download or merge.</source>
        <translation>该权重的某个配置文件已损坏或不属于它。请从模型的下载或合并结果恢复该文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="614"/>
        <source>{path}: {key} is {value}, not {expected}. Restore this file from the model&apos;s download or merge.</source>
        <translation>{path}：{key} 的值为 {value}，不是{expected}。请从模型的下载或合并结果中恢复此文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="618"/>
        <source>{path}: {key} is {value}, but the weights do not match it ({tensor}: {found}). Restore this file from the model&apos;s download or merge.</source>
        <translation>{path}：{key} 的值为 {value}，但权重与之不符（{tensor}：{found}）。请从模型的下载或合并结果中恢复此文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="622"/>
        <source>{path} is damaged: its header puts the tensors {tensor} and {other} on the same bytes. Copy or download this weight file again.</source>
        <translation>{path} 已损坏：其文件头让张量 {tensor} 和 {other} 占用了相同的字节。请重新复制或下载此权重文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="626"/>
        <source>The weights hold a tensor that a LLaMA model in float32, float16 or bfloat16 does not have; this checkpoint cannot be converted.</source>
        <translation>权重中有 float32、float16 或 bfloat16 的 LLaMA 模型不应有的张量；无法转换该权重。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="630"/>
        <source>{path} uses RoPE scaling, which this converter does not write. Use llama.cpp&apos;s convert_hf_to_gguf.py for this model.</source>
        <translation>{path} 使用了 RoPE 缩放，本转换器不支持。请用 llama.cpp 的 convert_hf_to_gguf.py 转换该模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="634"/>
        <source>Unknown output type {outtype}; choose f16, bf16 or f32.</source>
        <translation>未知的输出类型 {outtype}；请选择 f16、bf16 或 f32。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="637"/>
        <source>Unknown template {template}; choose auto, raw, chinese-alpaca or chinese-alpaca-2.</source>
        <translation>未知的模板 {template}；请选择 auto、raw、chinese-alpaca 或 chinese-alpaca-2。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="640"/>
        <source>{folder} has {free_size} free, but the output needs about {needed_size}. Free some space or choose another folder; nothing was written.</source>
        <translation>{folder} 只有 {free_size} 可用，而输出约需 {needed_size}。请释放空间或选择其他文件夹；没有写入任何文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="644"/>
        <source>Cannot write {path}: {detail}. Choose another output folder.</source>
        <translation>无法写入 {path}：{detail}。请选择其他输出文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="647"/>
        <source>Unknown quantization type {type}; choose one of the types offered.</source>
        <translation>未知的量化类型 {type}；请从提供的类型中选择。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="650"/>
        <source>{path} is not a folder.</source>
        <translation>{path} 不是文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="651"/>
        <source>Cannot use the folder {path}: {reason}. Choose another output folder.</source>
        <translation>无法使用文件夹 {path}：{reason}。请选择其他输出文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="654"/>
        <source>The disk that holds {folder} filled up while {name} was quantized to {type}: {free_size} is free, and the file needs about {needed_size}. Free some space or choose another folder, then quantize again; the unfinished file was removed.</source>
        <translation>将 {name} 量化为 {type} 时，{folder} 所在的磁盘已满：可用空间为 {free_size}，而该文件约需 {needed_size}。请释放空间或选择其他文件夹后重新量化；未完成的文件已删除。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="660"/>
        <source>llama.cpp could not quantize {path} to {type}:
{log}</source>
        <translation>llama.cpp 无法把 {path} 量化为 {type}：
{log}</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="663"/>
        <source>llama.cpp could not evaluate a window of the text for the report (out of memory?). Close other programs or choose a smaller context, and run the report again.</source>
        <translation>llama.cpp 无法为报告计算文本的一个窗口（内存不足？）。请关闭其他程序或选择更小的上下文，然后重新生成报告。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="667"/>
        <source>{path} is too large for the report; choose a text under 64 MiB.</source>
        <translation>{path} 太大，无法用于报告；请选择小于 64 MiB 的文本。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="670"/>
        <source>The text has {tokens} tokens for this model; the perplexity needs at least {needed} (two windows). Use a longer text or a smaller context.</source>
        <translation>对该模型而言，这段文本只有 {tokens} 个 token；计算困惑度至少需要 {needed} 个（两个窗口）。请使用更长的文本或更小的上下文。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="674"/>
        <source>Cannot read the text {path}. Choose a UTF-8 text file.</source>
        <translation>无法读取文本 {path}。请选择 UTF-8 文本文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="677"/>
        <source>The run&apos;s output folder {folder} is outside Alpaca Desk&apos;s data folder {data} and was not chosen here; it is not used. Choose the folder yourself, or leave it empty and the run&apos;s own folder is used.</source>
        <translation>训练的输出文件夹 {folder} 不在 Alpaca Desk 的数据文件夹 {data} 之内，且不是在这里选择的，因此不会使用。请自行选择文件夹，或留空以使用该训练自己的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="681"/>
        <source>The job specification {path} names the output folder {folder}, outside Alpaca Desk&apos;s data folder {data}; a folder named inside a spec file is not used without your word. To write there, name it on the command line (--out {folder}); or remove output_dir from the spec and the run&apos;s own folder is used.</source>
        <translation>任务规格 {path} 指定的输出文件夹 {folder} 不在 Alpaca Desk 的数据文件夹 {data} 之内；规格文件中写明的文件夹未经你确认不会使用。若要写入该处，请在命令行中指定（--out {folder}）；或从规格中删除 output_dir，将使用该训练自己的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="685"/>
        <source>The training recipe is not valid: {field}: {reason}.</source>
        <translation>训练配置无效：{field}：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="689"/>
        <source>Cannot read the job specification {path}: {reason}.</source>
        <translation>无法读取任务配置 {path}：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="693"/>
        <source>The job specification {path} is not valid: {field}: {reason}.</source>
        <translation>任务配置 {path} 无效：{field}：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="697"/>
        <source>Training needs {packages} in the Python that runs it ({python}). Install them with: {command} (or train on a GPU host that has them).</source>
        <translation>训练需要在运行它的 Python（{python}）中安装 {packages}。安装命令：{command}（或在已安装它们的 GPU 主机上训练）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="701"/>
        <source>No CUDA GPU was found; training needs one (only the tiny test configurations run on the CPU). Use a computer with an NVIDIA GPU, or a remote GPU host.</source>
        <translation>未找到 CUDA GPU；训练需要 GPU（只有微型测试配置可以在 CPU 上运行）。请使用带 NVIDIA GPU 的计算机，或远程 GPU 主机。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="705"/>
        <source>Run {job} has no adapter yet ({path} is missing): it has not finished.</source>
        <translation>运行 {job} 还没有适配器（缺少 {path}）：它尚未完成。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="709"/>
        <source>No training run {job}. The list of runs is in the Advanced window and in `alpaca-desk train status`.</source>
        <translation>没有训练运行 {job}。运行列表见“高级”窗口或 `alpaca-desk train status`。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="713"/>
        <source>The record of run {job} ({path}) is damaged; its folder can be deleted.</source>
        <translation>运行 {job} 的记录（{path}）已损坏；可以删除它的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="717"/>
        <source>The process that ran it is gone (the app or command that started it was closed or killed).</source>
        <translation>运行它的进程已不存在（启动它的应用或命令已被关闭或终止）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="721"/>
        <source>Run {job} runs on {target}; stop it from the Advanced window.</source>
        <translation>运行 {job} 在 {target} 上进行；请在“高级”窗口中停止它。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="725"/>
        <source>Run {job} runs on this computer, in the process that started it; see `alpaca-desk train status {job}`.</source>
        <translation>运行 {job} 在这台电脑上、由启动它的进程执行；请查看 `alpaca-desk train status {job}`。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="729"/>
        <source>The job on {name} ended without a word (the host restarted, or its processes were killed).</source>
        <translation>{name} 上的任务未留下任何消息就结束了（主机重启，或其进程被终止）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="733"/>
        <source>{name} lacks: {missing}.</source>
        <translation>{name} 缺少：{missing}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="737"/>
        <source>Run {job} is not running ({state}).</source>
        <translation>运行 {job} 未在进行（{state}）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="741"/>
        <source>The dataset {path} is too large ({size} bytes; the limit is 2 GB). Split it into several files in one folder.</source>
        <translation>数据集 {path} 太大（{size} 字节；上限为 2 GB）。请把它拆分为同一文件夹中的多个文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="745"/>
        <source>Cannot read the dataset {path}: {reason}.</source>
        <translation>无法读取数据集 {path}：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="749"/>
        <source>The dataset {path} holds no records (pre-training reads UTF-8 .txt files; instruction data is JSON).</source>
        <translation>数据集 {path} 中没有记录（预训练读取 UTF-8 .txt 文件；指令数据为 JSON）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="753"/>
        <source>Record {index} of {path} {reason}. Instruction data is a JSON array (or JSON lines) of objects with &quot;instruction&quot;, optional &quot;input&quot;, and &quot;output&quot; strings.</source>
        <translation>{path} 的第 {index} 条记录：{reason}。指令数据应为 JSON 数组（或 JSON lines），每个对象包含字符串 &quot;instruction&quot;、可选的 &quot;input&quot; 和 &quot;output&quot;。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="757"/>
        <source>{path} is not valid JSON (line {line}). Instruction data is a JSON array, or one JSON object per line.</source>
        <translation>{path} 不是有效的 JSON（第 {line} 行）。指令数据应为 JSON 数组，或每行一个 JSON 对象。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="761"/>
        <source>Line {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.</source>
        <translation>{path} 的第 {index} 行超过 {limit_mb} MB，远超一个训练序列所能容纳的长度，因此未读取。请缩短或删除这条记录后重新开始。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="765"/>
        <source>Record {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.</source>
        <translation>{path} 的第 {index} 条记录超过 {limit_mb} MB，远超一个训练序列所能容纳的长度，因此未读取。请缩短或删除这条记录后重新开始。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="769"/>
        <source>Record {index} of {path} has a prompt (instruction and input) longer than the {block_size} tokens of a training sequence, so none of its answer can be learned. Shorten the instruction and input, or raise the block size.</source>
        <translation>{path} 的第 {index} 条记录的提示词（指令和输入）超过一个训练序列的 {block_size} 个 token，其回答部分无法被学习。请缩短指令和输入，或增大块大小。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="773"/>
        <source>The dataset {path} gives no training sequence of {block_size} tokens; use more text or a smaller block size.</source>
        <translation>数据集 {path} 凑不出一个 {block_size} 个 token 的训练序列；请使用更多文本或更小的块大小。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="777"/>
        <source>Precision {precision} needs a CUDA GPU; use fp32 (or Automatic) for a tiny test on the CPU.</source>
        <translation>精度 {precision} 需要 CUDA GPU；在 CPU 上做微型测试请使用 fp32（或“自动”）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="781"/>
        <source>The model has {parameters} parameters; a tiny test on the CPU allows {limit}. Train real models on a CUDA GPU.</source>
        <translation>该模型有 {parameters} 个参数；CPU 上的微型测试最多允许 {limit} 个。请在 CUDA GPU 上训练真实模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="785"/>
        <source>The recipe asks for DeepSpeed ({config}) but it is not installed: pip install deepspeed.</source>
        <translation>配置要求使用 DeepSpeed（{config}），但尚未安装：pip install deepspeed。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="789"/>
        <source>Loading the model in {bits} bits needs a CUDA GPU: bitsandbytes quantizes on the GPU only. Choose 16 bits here, or train on a computer with an NVIDIA GPU.</source>
        <translation>以 {bits} 位加载模型需要 CUDA GPU：bitsandbytes 只能在 GPU 上量化。请在此选择 16 位，或在有 NVIDIA GPU 的电脑上训练。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="794"/>
        <source>Loading the model in {bits} bits needs bitsandbytes, which the training Python lacks. Install it with: {command}; or choose 16 bits.</source>
        <translation>以 {bits} 位加载模型需要 bitsandbytes，而训练用的 Python 没有安装它。请用以下命令安装：{command}；或选择 16 位。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="799"/>
        <source>The {job} run failed: {detail}. The log ({log}) has details.</source>
        <translation>{job} 运行失败：{detail}。详情见日志（{log}）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="803"/>
        <source>Cannot read {path} ({what}): {reason}.</source>
        <translation>无法读取 {path}（{what}）：{reason}。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="807"/>
        <source>{path}: {key} is {value}, not a number from {low} to {high}. The adapter&apos;s configuration is damaged: download or train the adapter again. Nothing was merged.</source>
        <translation>{path}：{key} 的值为 {value}，不是 {low} 到 {high} 之间的数。适配器的配置已损坏：请重新下载或训练该适配器。未进行任何合并。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="811"/>
        <source>{path} is a pickle that holds more than tensors ({what}); loading it could run code from the file, so it was not opened. Use the adapter saved as safetensors, or get it again from its publisher.</source>
        <translation>{path} 是一个除张量外还包含其他内容（{what}）的 pickle 文件；加载它可能会运行文件中的代码，因此未打开。请使用以 safetensors 格式保存的适配器，或从发布者处重新获取。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="815"/>
        <source>The adapter {adapter} holds no weights, so merging it would change nothing. Download or train the adapter again.</source>
        <translation>适配器 {adapter} 不含任何权重，合并它不会改变模型。请重新下载或训练该适配器。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="819"/>
        <source>Merging gives {tensor} values that are not finite numbers (inf or NaN), because of {path}. Nothing was written; use a sound adapter and base model.</source>
        <translation>合并后 {tensor} 出现非有限数值（inf 或 NaN），原因在于 {path}。未写入任何文件；请使用完好的适配器和基础模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="823"/>
        <source>{path} is a {kind} adapter; only plain LoRA adapters can be merged here (use peft&apos;s merge_and_unload for the others).</source>
        <translation>{path} 是 {kind} 适配器；这里只能合并普通 LoRA 适配器（其他类型请使用 peft 的 merge_and_unload）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="827"/>
        <source>{path} holds no model weights (model.safetensors, pytorch_model.bin or a sharded index). Give the base model&apos;s Hugging Face folder.</source>
        <translation>{path} 中没有模型权重（model.safetensors、pytorch_model.bin 或分片索引）。请选择基础模型的 Hugging Face 文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="831"/>
        <source>The adapter {adapter} does not fit this base model ({tensor}): it was trained for another model.</source>
        <translation>适配器 {adapter} 与该基础模型不匹配（{tensor}）：它是为另一个模型训练的。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="835"/>
        <source>The adapters resize the vocabulary to {rows} rows but carry no tokenizer.model. Put the adapter&apos;s tokenizer in its folder.</source>
        <translation>适配器把词表调整为 {rows} 行，但没有附带 tokenizer.model。请把适配器的分词器放进它的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="839"/>
        <source>{path} gives the added token {token} the id {id}, but the tokenizer.model beside it has {pieces} pieces, so the added tokens must take the ids from {pieces} on, in turn ({expected} here). The tokenizer files of that folder do not belong together: put there the tokenizer.model and added_tokens.json that were saved with its weights (or download or train them again). Nothing was merged.</source>
        <translation>{path} 给新增 token {token} 的 id 是 {id}，但旁边的 tokenizer.model 有 {pieces} 个词元，新增 token 的 id 必须从 {pieces} 起依次排列（这里应为 {expected}）。该文件夹中的分词器文件不匹配：请放入与其权重一同保存的 tokenizer.model 和 added_tokens.json（或重新下载、重新训练）。未进行任何合并。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="843"/>
        <source>Give at least one LoRA adapter to merge.</source>
        <translation>请至少提供一个要合并的 LoRA 适配器。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="847"/>
        <source>{path} exists already; choose a new folder for the merged model.</source>
        <translation>{path} 已存在；请为合并后的模型选择一个新文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="851"/>
        <source>{repo} is not a LoRA repository of the model catalogue (or its merge recipe goes round in a circle), so it cannot be merged from here.</source>
        <translation>{repo} 不是模型目录中的 LoRA 仓库（或其合并顺序出现了循环），无法在此合并。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="855"/>
        <source>The LoRA repository {repo} is not (wholly) in the models folder {folder}. Download it first: alpaca-desk download {repo}</source>
        <translation>LoRA 仓库 {repo} 不在（或未完整下载到）模型文件夹 {folder} 中。请先下载：alpaca-desk download {repo}</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="859"/>
        <source>{repo} is merged on top of {after}: give the adapters in the order {chain}.</source>
        <translation>{repo} 要合并在 {after} 之上：请按 {chain} 的顺序给出适配器。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="863"/>
        <source>{folder} is not a folder. Choose the folder of the original LLaMA weights in Hugging Face format.</source>
        <translation>{folder} 不是文件夹。请选择 Hugging Face 格式的原版 LLaMA 权重所在的文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="867"/>
        <source>{folder} holds Meta&apos;s original checkpoint (consolidated.*.pth). The merge needs the Hugging Face format: convert it first with transformers&apos; script, {command}, then choose the output folder.</source>
        <translation>{folder} 中是 Meta 的原始检查点（consolidated.*.pth）。合并需要 Hugging Face 格式：请先用 transformers 的脚本转换（{command}），再选择其输出文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="871"/>
        <source>{folder} has no config.json: it is not a model in Hugging Face format. Choose the folder of the original LLaMA weights converted to Hugging Face format (config.json, tokenizer.model, weights).</source>
        <translation>{folder} 中没有 config.json：它不是 Hugging Face 格式的模型。请选择已转换为 Hugging Face 格式的原版 LLaMA 权重文件夹（config.json、tokenizer.model、权重）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="875"/>
        <source>{folder} has a vocabulary of {rows} tokens{label}, not the original LLaMA&apos;s {expected}. The Chinese LoRA adapters add the Chinese vocabulary themselves and must be merged into Meta&apos;s original LLaMA weights, not into a model that was merged or extended already.</source>
        <translation>{folder} 的词表有 {rows} 个词元{label}，不是原版 LLaMA 的 {expected}。中文 LoRA 适配器会自行加入中文词表，必须合并进 Meta 原版 LLaMA 权重，而不是已经合并或扩充过词表的模型。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="879"/>
        <source>{folder} is LLaMA {found}, but these adapters are for LLaMA {params}. Choose the {params} weights.</source>
        <translation>{folder} 是 LLaMA {found}，而这些适配器是为 LLaMA {params} 准备的。请选择 {params} 的权重。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="883"/>
        <source>Merging needs {packages} (the train extra), which this computer&apos;s Python ({python}) lacks. Install them with: {command}, or merge with alpaca-desk merge-lora on a computer that has them.</source>
        <translation>合并需要 {packages}（train 附加组件），本机的 Python（{python}）中没有。请用以下命令安装：{command}，或在具备这些组件的电脑上用 alpaca-desk merge-lora 合并。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="275"/>
        <source>The disk holding the conversation database {path} is full. Free some space and try again; nothing was lost.</source>
        <translation>对话数据库 {path} 所在的磁盘已满。请释放一些空间后重试；没有丢失任何内容。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="259"/>
        <source>{path} was not read: it is nested more than {limit} levels deep, which a real one never is. Replace it with a good copy, or remove it.</source>
        <translation>未读取 {path}：它的嵌套超过 {limit} 层，正常的此类文件不会如此。请换成完好的副本，或将其删除。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="279"/>
        <source>The conversation database {path} or its folder is read-only. Make them writable, or start Alpaca Desk with --data-dir elsewhere.</source>
        <translation>对话数据库 {path} 或其所在文件夹是只读的。请将其改为可写，或用 --data-dir 指定其他位置启动 Alpaca Desk。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="283"/>
        <source>Another program is using the conversation database {path}. Close it and try again.</source>
        <translation>另一个程序正在使用对话数据库 {path}。请关闭它后重试。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="287"/>
        <source>The conversation database {path} cannot be opened. Check that it is a file you may read and write, or start Alpaca Desk with --data-dir elsewhere.</source>
        <translation>无法打开对话数据库 {path}。请确认它是可读写的文件，或用 --data-dir 指定其他位置启动 Alpaca Desk。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="291"/>
        <source>The disk reported an error while using the conversation database {path}. Check the drive and free space, then try again.</source>
        <translation>使用对话数据库 {path} 时磁盘报错。请检查磁盘和剩余空间后重试。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="295"/>
        <source>The conversation database {path} reported an error ({detail}). Try again; if it keeps happening, restart Alpaca Desk.</source>
        <translation>对话数据库 {path} 报错（{detail}）。请重试；如果反复出现，请重启 Alpaca Desk。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="299"/>
        <source>The conversation database {path} was written by a newer Alpaca Desk. Update Alpaca Desk, or start it with --data-dir pointing to another folder.</source>
        <translation>对话数据库 {path} 由更新版本的 Alpaca Desk 写入。请更新 Alpaca Desk，或用 --data-dir 指向其他文件夹启动。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="303"/>
        <source>The model file has no embedded chat template; choose another chat template in the decoding panel.</source>
        <translation>模型文件中没有内置的对话模板；请在解码参数面板中选择其他对话模板。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="307"/>
        <source>The chat template inside {name} was refused: it is larger than {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：它大于 {limit_kib} KiB。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="311"/>
        <source>The chat template inside {name} was refused: syntax error on line {line}: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：第 {line} 行有语法错误：{detail}。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="315"/>
        <source>The chat template inside {name} was refused: it tried something the sandbox forbids ({detail}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：它试图执行沙箱禁止的操作（{detail}）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="319"/>
        <source>The chat template inside {name} was refused: rendering it took longer than {seconds} s. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：渲染用时超过 {seconds} 秒。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="323"/>
        <source>The chat template inside {name} was refused: its output grew past {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：它的输出超过了 {limit_kib} KiB。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="327"/>
        <source>The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：它的输出或中间值超出了内存上限（{limit_mib} MiB）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="331"/>
        <source>The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB) and ended the sandbox process ({how}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>已拒绝 {name} 内置的对话模板：它的输出或中间值超出了内存上限（{limit_mib} MiB），导致沙箱进程终止（{how}）。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="335"/>
        <source>The chat template inside {name} failed: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).</source>
        <translation>{name} 内置的对话模板渲染失败：{detail}。请在解码参数面板中为此模型选择一个内置对话模板，例如 Chinese-Alpaca-2（Llama-2 对话格式）。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="339"/>
        <source>The process that renders model files&apos; chat templates could not start ({how}); see the log. Choose a built-in chat template in the decoding panel meanwhile.</source>
        <translation>渲染模型文件对话模板的进程无法启动（{how}），请查看日志。在此期间请在解码参数面板中选择一个内置对话模板。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="343"/>
        <source>Cannot import this file: {problem}. Choose a file made with Alpaca Desk&apos;s JSON export.</source>
        <translation>无法导入此文件：{problem}。请选择 Alpaca Desk 导出的 JSON 文件。</translation>
    </message>
    <message>
        <location filename="../../app/messages.py" line="347"/>
        <source>Cannot import this file: it was exported by a newer Alpaca Desk (format version {version}). Update Alpaca Desk to import it.</source>
        <translation>无法导入此文件：它由更新版本的 Alpaca Desk 导出（格式版本 {version}）。请更新 Alpaca Desk 后再导入。</translation>
    </message>
</context>
<context>
    <name>ModelsController</name>
    <message>
        <location filename="../../app/controllers/models.py" line="126"/>
        <source>Open a GGUF model</source>
        <translation>打开 GGUF 模型</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="126"/>
        <location filename="../../app/controllers/models.py" line="136"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="136"/>
        <source>Choose a draft model</source>
        <translation>选择草稿模型</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="166"/>
        <source>Speculative decoding is set to Draft model, but no draft model file is chosen: the model is loaded without drafting. Choose one with Draft model… in the decoding panel.</source>
        <translation>投机解码设为“草稿模型”，但尚未选择草稿模型文件：模型将不带起草加载。请在解码面板中用“草稿模型…”选择一个。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="179"/>
        <source>Loading {0}…</source>
        <translation>正在加载 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="185"/>
        <source>Loading cancelled. No model loaded</source>
        <translation>已取消加载。未加载模型</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="199"/>
        <source>(none yet)</source>
        <translation>（暂无）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="228"/>
        <source>{name} · {params} · {quant} · vocabulary {vocab}</source>
        <translation>{name} · {params} · {quant} · 词表 {vocab}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="276"/>
        <source>{path}
Planned at {ctx} tokens of context, {kv} KV cache: weights {weights}, KV cache {kv_size}.</source>
        <translation>{path}
按 {ctx} 个 token 的上下文、{kv} KV 缓存估算：权重 {weights}，KV 缓存 {kv_size}。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="294"/>
        <location filename="../../app/controllers/models.py" line="301"/>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="307"/>
        <source>The model process stopped unexpectedly. Your conversation is safe.
{0}</source>
        <translation>模型进程意外退出，你的对话不会丢失。
{0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="309"/>
        <source>Restart and reload the model</source>
        <translation>重启并重新加载模型</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="319"/>
        <source>The KV cache type {0} takes effect when the model is loaded again.</source>
        <translation>KV 缓存类型 {0} 在重新加载模型后生效。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="341"/>
        <source>The speculative decoding choice takes effect when the model is loaded again.</source>
        <translation>投机解码的选择在重新加载模型后生效。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="360"/>
        <source>The context size {0} takes effect when the model is loaded again.</source>
        <translation>上下文长度 {0} 将在重新加载模型后生效。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/models.py" line="347"/>
        <location filename="../../app/controllers/models.py" line="361"/>
        <source>Reload now</source>
        <translation>立即重新加载</translation>
    </message>
</context>
<context>
    <name>Notices</name>
    <message>
        <location filename="../../app/notices.py" line="73"/>
        <source>Your conversation file could not be opened and was left untouched; new chats go to a new file. Details: {0}</source>
        <extracomment>The notice of runtime.store.open_store that comes with the recovery button. The banner key of the recovery&apos;s progress and result.</extracomment>
        <translation>无法打开对话记录文件（原文件未做任何改动），新的对话将保存到新文件中。详情：{0}</translation>
    </message>
    <message>
        <location filename="../../app/notices.py" line="90"/>
        <source>Recover messages</source>
        <translation>恢复消息</translation>
    </message>
    <message>
        <location filename="../../app/notices.py" line="100"/>
        <source>Recovering the messages that can still be read from {0}…</source>
        <translation>正在从 {0} 恢复仍可读取的消息…</translation>
    </message>
    <message>
        <location filename="../../app/notices.py" line="121"/>
        <source>Recovered {0} messages in {1} conversations from {2}. The file stays where it is.</source>
        <translation>已从 {2} 恢复 {1} 个对话中的 {0} 条消息。该文件保留在原处。</translation>
    </message>
    <message>
        <location filename="../../app/notices.py" line="126"/>
        <source>No message could be read from {0}. The file stays where it is.</source>
        <translation>无法从 {0} 读取任何消息。该文件保留在原处。</translation>
    </message>
</context>
<context>
    <name>Plan</name>
    <message>
        <location filename="../../app/plan_texts.py" line="68"/>
        <source>{gb} · about {tps} tokens/s</source>
        <extracomment>The context a catalogue file&apos;s row is planned for (less when the model was trained for less).</extracomment>
        <translation>{gb} · 约每秒 {tps} 个 token</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="70"/>
        <source>Planned for this computer at {ctx} tokens of context: about {gb} of memory, and about {tps} tokens/s while it answers.</source>
        <translation>按本机、{ctx} 个 token 的上下文估算：约占 {gb} 内存，回答时约每秒 {tps} 个 token。</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="77"/>
        <source>does not fit</source>
        <translation>内存不够</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="79"/>
        <source>This computer has {total} of memory: the model would leave too little for the rest.</source>
        <translation>本机共有 {total} 内存：装入该模型后留给其他程序的太少。</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="84"/>
        <source>too slow here</source>
        <translation>在本机太慢</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="86"/>
        <source>That is slower than reading ({speed} tokens/s): it works, but answers come slowly.</source>
        <translation>这比阅读速度（每秒 {speed} 个 token）慢：可以使用，但回答出得很慢。</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="98"/>
        <source>about {tps} tokens/s here, {gb} at {ctx} context</source>
        <translation>在本机约每秒 {tps} 个 token，{ctx} 上下文时约占 {gb}</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="105"/>
        <source>plan: {gb}, about {tps} tokens/s</source>
        <translation>估算：{gb}，约每秒 {tps} 个 token</translation>
    </message>
    <message>
        <location filename="../../app/plan_texts.py" line="112"/>
        <source>about {gb} of memory, KV cache {kv}</source>
        <translation>约 {gb} 内存，其中 KV 缓存 {kv}</translation>
    </message>
</context>
<context>
    <name>QuitWithDownloadsBox</name>
    <message>
        <location filename="../../app/views/tray.py" line="109"/>
        <source>Downloads are running</source>
        <extracomment>Every message shown (title, text), newest last: what the user was told, also where the desktop shows no messages.</extracomment>
        <translation>下载正在进行</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="111"/>
        <source>A download is running. Quit and resume it the next time you start Alpaca Desk?</source>
        <translation>有 1 个下载正在进行。要退出并在下次启动 Alpaca Desk 时继续吗？</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="114"/>
        <source>{0} downloads are running. Quit and resume them the next time you start Alpaca Desk?</source>
        <translation>有 {0} 个下载正在进行。要退出并在下次启动 Alpaca Desk 时继续吗？</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="118"/>
        <source>What is already downloaded stays on disk; the downloads go on from there, not from zero.</source>
        <translation>已下载的部分会保留在磁盘上，下载将从那里继续，而不是从头开始。</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="120"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../app/views/tray.py" line="121"/>
        <source>Keep downloading</source>
        <translation>继续下载</translation>
    </message>
</context>
<context>
    <name>ReportChart</name>
    <message>
        <location filename="../../app/views/report_chart.py" line="109"/>
        <source>File size ({0})</source>
        <extracomment>Width in pixels of the exported PNG (the height follows the chart&apos;s shape on screen). Files of at least this size are shown in GiB, smaller ones in MiB (as the table shows them).</extracomment>
        <translation>文件大小（{0}）</translation>
    </message>
    <message>
        <location filename="../../app/views/report_chart.py" line="110"/>
        <source>Perplexity (lower is better)</source>
        <translation>困惑度（越低越好）</translation>
    </message>
</context>
<context>
    <name>ReportDialog</name>
    <message>
        <location filename="../../app/views/report_dialog.py" line="52"/>
        <source>Quantization report</source>
        <translation>量化报告</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="63"/>
        <source>Perplexity is computed as llama.cpp&apos;s llama-perplexity does: windows of the context size, the loss over the second half of each. Lower is better; compare files of the same model only.</source>
        <translation>困惑度的计算方式与 llama.cpp 的 llama-perplexity 相同：按上下文长度切分窗口，只计每个窗口后半部分的损失。越低越好；只比较同一模型的文件。</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="72"/>
        <source>The bundled Chinese sample</source>
        <translation>内置的中文样本</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="73"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="83"/>
        <source>Files</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="84"/>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="85"/>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="89"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="89"/>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="89"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="89"/>
        <source>Bits/weight</source>
        <translation>每权重位数</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="89"/>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="90"/>
        <source>Tokens/s</source>
        <translation>token/秒</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="109"/>
        <source>Make the report</source>
        <translation>生成报告</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="112"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="115"/>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="118"/>
        <source>Export chart as PNG…</source>
        <translation>导出图表为 PNG…</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="121"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="141"/>
        <source>Choose a text</source>
        <translation>选择文本</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="141"/>
        <source>Text (*.txt);;All files (*)</source>
        <translation>文本 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="153"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="168"/>
        <source>Perplexity {0}</source>
        <translation>困惑度 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="168"/>
        <source>Speed {0}</source>
        <translation>速度 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="194"/>
        <source>Perplexity over windows of {0} tokens of {1}.</source>
        <translation>困惑度按 {1} 中 {0} 个 token 的窗口计算。</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="203"/>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="212"/>
        <source>Export CSV</source>
        <translation>导出 CSV</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="225"/>
        <source>Export chart as PNG</source>
        <translation>导出图表为 PNG</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="225"/>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <location filename="../../app/views/report_dialog.py" line="234"/>
        <source>Cannot write {0}: {1}</source>
        <translation>无法写入 {0}：{1}</translation>
    </message>
</context>
<context>
    <name>ServerController</name>
    <message>
        <location filename="../../app/controllers/server.py" line="72"/>
        <source>Local server</source>
        <extracomment>Settings → Local server…, once opened (app.views.server_dialog.open_server_dialog).</extracomment>
        <translation>本地服务器</translation>
    </message>
    <message>
        <location filename="../../app/controllers/server.py" line="235"/>
        <source>Local server: answering a request</source>
        <translation>本地服务器：正在回答一个请求</translation>
    </message>
    <message>
        <location filename="../../app/controllers/server.py" line="237"/>
        <source>Local server: a request waits for the answer in this window</source>
        <translation>本地服务器：一个请求正在等待本窗口的回答完成</translation>
    </message>
    <message>
        <location filename="../../app/controllers/server.py" line="239"/>
        <source>Local server: a request waits its turn</source>
        <translation>本地服务器：一个请求正在排队等候</translation>
    </message>
    <message>
        <location filename="../../app/controllers/server.py" line="241"/>
        <source>Local server: on</source>
        <translation>本地服务器：已开启</translation>
    </message>
</context>
<context>
    <name>ServerDialog</name>
    <message>
        <location filename="../../app/views/server_dialog.py" line="31"/>
        <source>Local server</source>
        <translation>本地服务器</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="34"/>
        <source>Serve the loaded model to other programs on this computer</source>
        <translation>把已加载的模型提供给本机的其他程序使用</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="38"/>
        <source>127.0.0.1: this computer only. Any other address lets other computers connect, with the key.</source>
        <translation>127.0.0.1：仅限本机。任何其他地址都允许其他电脑凭密钥连接。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="42"/>
        <source>any free port</source>
        <translation>任意空闲端口</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="44"/>
        <source>Require the API key</source>
        <translation>要求提供 API 密钥</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="49"/>
        <source>Copy URL</source>
        <translation>复制网址</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="50"/>
        <source>Copy key</source>
        <translation>复制密钥</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="51"/>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="56"/>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="57"/>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="63"/>
        <source>API key:</source>
        <translation>API 密钥：</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="108"/>
        <source>Off.</source>
        <translation>已关闭。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="110"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="112"/>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="114"/>
        <source>Listening at {0}. Requests served: {1}.</source>
        <translation>正在 {0} 监听。已处理请求：{1}。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="116"/>
        <source>Answering now.</source>
        <translation>正在回答。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="118"/>
        <source>A request waits its turn.</source>
        <translation>有一个请求正在排队。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="120"/>
        <source>No model is loaded: requests are answered with an error until one is.</source>
        <translation>未加载模型：加载模型之前，请求都会得到错误回答。</translation>
    </message>
    <message>
        <location filename="../../app/views/server_dialog.py" line="122"/>
        <source>The key could not be saved in a keyring; it lasts until Alpaca Desk quits.</source>
        <translation>密钥无法保存到密钥环中；它只在 Alpaca Desk 退出前有效。</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../../app/views/shortcuts_dialog.py" line="53"/>
        <location filename="../../app/views/shortcuts_dialog.py" line="56"/>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location filename="../../app/views/shortcuts_dialog.py" line="55"/>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
    <message>
        <location filename="../../app/views/shortcuts_dialog.py" line="55"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../app/views/shortcuts_dialog.py" line="55"/>
        <source>Menu</source>
        <translation>菜单</translation>
    </message>
    <message>
        <location filename="../../app/views/shortcuts_dialog.py" line="58"/>
        <source>Each row: the keys, what they do, and the menu that has the action.</source>
        <translation>每一行：按键、它的作用，以及包含该操作的菜单。</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <location filename="../../app/main.py" line="212"/>
        <source>Alpaca Desk is already running with this data folder. Switch to its window.</source>
        <extracomment>Exit status when a folder the app needs cannot be used (the message names it and what to do). The desktop entry&apos;s name (packaging/alpaca-desk.desktop) and the Wayland app id.</extracomment>
        <translation>Alpaca Desk 已在使用此数据文件夹运行。请切换到它的窗口。</translation>
    </message>
    <message>
        <location filename="../../app/main.py" line="246"/>
        <source>Alpaca Desk cannot use the folder {path}: {reason}. Make the folder writable (or move away the file in its place), or start Alpaca Desk with --data-dir pointing to a folder you can write to.</source>
        <translation>Alpaca Desk 无法使用文件夹 {path}：{reason}。请将该文件夹改为可写（或移走占据其位置的文件），或用 --data-dir 指向一个可写的文件夹启动 Alpaca Desk。</translation>
    </message>
</context>
<context>
    <name>TokenizerPanel</name>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="97"/>
        <source>Tokenizers</source>
        <translation>分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="101"/>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="102"/>
        <source>Compare with another tokenizer</source>
        <translation>与另一个分词器比较</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="112"/>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="112"/>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="112"/>
        <source>Chars/token</source>
        <translation>字符/token</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="112"/>
        <source>Bytes</source>
        <translation>字节片段</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="112"/>
        <source>Ratio</source>
        <translation>比例</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="115"/>
        <source>Pieces like &lt;0xE5&gt; that spell a character byte by byte because the vocabulary lacks it</source>
        <translation>词表中没有该字符时，用 &lt;0xE5&gt; 这类字节片段逐字节拼出它</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="117"/>
        <source>Tokens relative to the first tokenizer</source>
        <translation>相对于第一个分词器的 token 数</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="143"/>
        <source>Open a tokenizer file…</source>
        <translation>打开分词器文件…</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="148"/>
        <source>Fetch it from the Hugging Face hub</source>
        <translation>从 Hugging Face Hub 获取</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="159"/>
        <source>Pieces of:</source>
        <translation>切分结果：</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="167"/>
        <source>Type or paste text in the message box to see its tokens.</source>
        <translation>在消息框中输入或粘贴文本，即可查看它的 token。</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="169"/>
        <source>Counts exclude the beginning-of-text token &lt;s&gt; that a prompt adds once.</source>
        <translation>统计不含提示词开头添加一次的起始 token &lt;s&gt;。</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="204"/>
        <source>This conversation&apos;s prompt (template included): {0} of {1} tokens, as the model counts.</source>
        <translation>本对话的提示词（含模板）：按模型分词为 {0} / {1} 个 token。</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="288"/>
        <source>Showing the first {0} of {1} characters; the counts cover all of them.</source>
        <translation>仅显示前 {0} 个字符（共 {1} 个）；统计涵盖全部文本。</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="346"/>
        <source>A {n_ctx}-token context holds about {a} characters of this kind of text under {first} and {b} under {second}.</source>
        <translation>{n_ctx} 个 token 的上下文，按 {first} 约可容纳 {a} 个此类文本的字符，按 {second} 约可容纳 {b} 个。</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="376"/>
        <source>Original LLaMA (32,000)</source>
        <translation>原版 LLaMA（32,000）</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="377"/>
        <source>Chinese-LLaMA (49,953)</source>
        <translation>Chinese-LLaMA（49,953）</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="378"/>
        <source>Chinese-LLaMA-2 (55,296)</source>
        <translation>Chinese-LLaMA-2（55,296）</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="384"/>
        <source>The loaded model&apos;s vocabulary</source>
        <translation>已加载模型的词表</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="389"/>
        <source>From a file (tokenizer.model, folder or GGUF)…</source>
        <translation>从文件添加（tokenizer.model、文件夹或 GGUF）…</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="395"/>
        <source>Choose a tokenizer</source>
        <translation>选择分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="397"/>
        <source>Tokenizers (*.model *.gguf tokenizer_config.json);;All files (*)</source>
        <translation>分词器 (*.model *.gguf tokenizer_config.json);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../app/views/tokenizer_panel.py" line="410"/>
        <source>Remove from the comparison</source>
        <translation>从比较中移除</translation>
    </message>
</context>
<context>
    <name>TrainingController</name>
    <message>
        <location filename="../../app/controllers/training.py" line="116"/>
        <source>Tiny test on the CPU (a tiny model only)</source>
        <translation>CPU 上的微型测试（仅限微型模型）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="124"/>
        <location filename="../../app/controllers/training.py" line="508"/>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="143"/>
        <source>Checking {target}…</source>
        <translation>正在检查 {target}…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="160"/>
        <source>the CPU (tiny test)</source>
        <translation>CPU（微型测试）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="161"/>
        <source>Ready: {devices}</source>
        <translation>就绪：{devices}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="294"/>
        <source>Run {job} is starting…</source>
        <translation>运行 {job} 正在启动…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="307"/>
        <source>Stopping after the current step…</source>
        <translation>将在当前步骤完成后停止…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="336"/>
        <source>Uploading the job: {done} of {total}</source>
        <translation>正在上传任务：{done} / {total}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="343"/>
        <source>connection lost; reconnecting (the run goes on)</source>
        <translation>连接中断，正在重新连接（训练仍在继续）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="344"/>
        <source>re-attached</source>
        <translation>已重新连接</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="349"/>
        <source>Run {job} on {host}: {phase}</source>
        <translation>{host} 上的运行 {job}：{phase}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="361"/>
        <source>Downloading the adapter of run {job}…</source>
        <translation>正在下载运行 {job} 的适配器…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="385"/>
        <source>Downloading the adapter of run {job}: {done} of {size}</source>
        <translation>正在下载运行 {job} 的适配器：{done} / {size}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="404"/>
        <source>The adapter was downloaded to {path} ({size}).</source>
        <translation>适配器已下载到 {path}（{size}）。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="408"/>
        <source>Step {step} of {total}</source>
        <translation>第 {step} / {total} 步</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="410"/>
        <source>loss {loss:.4f}</source>
        <translation>损失 {loss:.4f}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="413"/>
        <location filename="../../app/controllers/training.py" line="446"/>
        <source>validation loss {loss:.4f} (perplexity {perplexity:.2f})</source>
        <translation>验证损失 {loss:.4f}（困惑度 {perplexity:.2f}）</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="418"/>
        <source>{speed:,.0f} tokens/s</source>
        <translation>{speed:,.0f} token/秒</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="420"/>
        <source>GPU memory {gib:.1f} GiB</source>
        <translation>显存 {gib:.1f} GiB</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="422"/>
        <source>{eta} left</source>
        <translation>剩余 {eta}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="444"/>
        <source>Run {job} finished: the adapter is in {path}</source>
        <translation>运行 {job} 已完成：适配器位于 {path}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="452"/>
        <source>Run {job} stopped at step {step}.</source>
        <translation>运行 {job} 已在第 {step} 步停止。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="454"/>
        <source>Start the same recipe again to resume from its checkpoint.</source>
        <translation>用同样的配置再次开始即可从检查点继续。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="458"/>
        <source>Run {job} failed: {message}</source>
        <translation>运行 {job} 失败：{message}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="471"/>
        <source>Merging the adapter into {model}…</source>
        <translation>正在把适配器合并到 {model}…</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="481"/>
        <source>Merged into {path}. Convert it to GGUF to chat with it.</source>
        <translation>已合并到 {path}。转换为 GGUF 后即可用它对话。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="499"/>
        <source>starting</source>
        <translation>启动中</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="342"/>
        <location filename="../../app/controllers/training.py" line="500"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="111"/>
        <source>Chinese-LLaMA: pre-training with LoRA</source>
        <extracomment>Milliseconds between polls of a running run&apos;s events and log. Bytes of the adapter downloaded and in all (emitted on the download&apos;s thread, shown on the GUI&apos;s).</extracomment>
        <translation>Chinese-LLaMA：LoRA 预训练</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="112"/>
        <source>Chinese-LLaMA 7B, stage 1 of 2: input embeddings only</source>
        <translation>Chinese-LLaMA 7B，两阶段中的第 1 阶段：只训练输入词嵌入</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="113"/>
        <source>Chinese-Alpaca: instruction fine-tuning with LoRA</source>
        <translation>Chinese-Alpaca：LoRA 指令精调</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="114"/>
        <source>Chinese-LLaMA-2: pre-training with LoRA</source>
        <translation>Chinese-LLaMA-2：LoRA 预训练</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="115"/>
        <source>Chinese-Alpaca-2: instruction fine-tuning with LoRA</source>
        <translation>Chinese-Alpaca-2：LoRA 指令精调</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="501"/>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="502"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../app/controllers/training.py" line="503"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>TrainingView</name>
    <message>
        <location filename="../../app/views/training_view.py" line="59"/>
        <source>Advanced: LoRA training</source>
        <extracomment>Lines kept in the live log.</extracomment>
        <translation>高级：LoRA 训练</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="75"/>
        <source>Pre-training (plain text)</source>
        <translation>预训练（纯文本）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="76"/>
        <source>Instruction fine-tuning (Alpaca JSON)</source>
        <translation>指令精调（Alpaca JSON）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="78"/>
        <source>Hugging Face model folder (LLaMA)</source>
        <translation>Hugging Face 模型文件夹（LLaMA）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="79"/>
        <location filename="../../app/views/training_view.py" line="83"/>
        <location filename="../../app/views/training_view.py" line="89"/>
        <location filename="../../app/views/training_view.py" line="110"/>
        <location filename="../../app/views/training_view.py" line="170"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="82"/>
        <source>Optional: the model folder&apos;s tokenizer</source>
        <translation>可选：默认使用模型文件夹中的分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="87"/>
        <source>Text file or folder (pre-training), JSON or JSON lines (instructions)</source>
        <translation>文本文件或文件夹（预训练），JSON 或 JSON lines（指令数据）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="91"/>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="92"/>
        <source>Show the first records and their token counts under the tokenizer</source>
        <translation>显示前几条记录及其在该分词器下的 token 数</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="94"/>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="94"/>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="94"/>
        <source>Learned</source>
        <translation>参与学习</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="102"/>
        <source>The first training sequences appear here, the learned part marked.</source>
        <translation>这里显示最前面的训练序列，并标出学习的部分。</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="108"/>
        <source>Optional: a dataset of the same kind to validate on, instead of the held-out share</source>
        <translation>可选：用于验证的同类数据集，代替留出的比例</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="113"/>
        <source>Recipe</source>
        <translation>训练配置</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="116"/>
        <source>Preset:</source>
        <translation>预设：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="117"/>
        <source>Kind:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="118"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="119"/>
        <source>Tokenizer:</source>
        <translation>分词器：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="120"/>
        <source>Dataset:</source>
        <translation>数据集：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="124"/>
        <source>Validation file:</source>
        <translation>验证文件：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="134"/>
        <source>from the epochs</source>
        <translation>按轮数计算</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="139"/>
        <source>at the end and on stop</source>
        <translation>结束时和停止时</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="141"/>
        <source>Gradient checkpointing (less memory, slower)</source>
        <translation>梯度检查点（省显存，较慢）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="146"/>
        <source>The share of the training sequences held out to measure the validation loss (0.001 = 0.1%, as the authors&apos; scripts); not used when a validation file is given</source>
        <translation>从训练序列中留出用于计算验证损失的比例（0.001 = 0.1%，与作者的脚本相同）；给出验证文件时不使用</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="151"/>
        <source>only at the end</source>
        <translation>仅在结束时</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="152"/>
        <source>Validation loss and perplexity every this many steps, and at the end</source>
        <translation>每隔这么多步以及结束时计算验证损失和困惑度</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="154"/>
        <source>16 bits (not quantized)</source>
        <translation>16 位（不量化）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="155"/>
        <source>8 bits (bitsandbytes, CUDA only)</source>
        <translation>8 位（bitsandbytes，仅 CUDA）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="156"/>
        <source>4 bits (bitsandbytes, CUDA only)</source>
        <translation>4 位（bitsandbytes，仅 CUDA）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="159"/>
        <source>Automatic (bf16 or fp16 on the GPU)</source>
        <translation>自动（GPU 上用 bf16 或 fp16）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="166"/>
        <source>LoRA (and embeddings when the vocabulary grows)</source>
        <translation>LoRA（词表扩充时同时训练词嵌入）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="167"/>
        <source>Stage 1: embeddings only, transformer frozen</source>
        <translation>第 1 阶段：仅训练词嵌入，冻结 Transformer</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="169"/>
        <source>Optional: an adapter to continue (stage 2 after stage 1)</source>
        <translation>可选：要继续训练的适配器（第 1 阶段之后的第 2 阶段）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="173"/>
        <source>When the tokenizer is larger than the model</source>
        <translation>当分词器比模型词表大时</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="174"/>
        <source>Always</source>
        <translation>总是</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="175"/>
        <source>Never</source>
        <translation>从不</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="177"/>
        <source>Hyper-parameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="180"/>
        <source>LoRA rank / alpha / dropout:</source>
        <translation>LoRA 秩 / alpha / dropout：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="181"/>
        <source>Learning rate:</source>
        <translation>学习率：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="182"/>
        <source>Epochs / max steps:</source>
        <translation>轮数 / 最大步数：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="183"/>
        <source>Block size:</source>
        <translation>块大小：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="184"/>
        <source>Batch / accumulation:</source>
        <translation>批大小 / 梯度累积：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="185"/>
        <source>Checkpoint every:</source>
        <translation>检查点间隔：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="186"/>
        <source>Seed:</source>
        <translation>随机种子：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="187"/>
        <source>Precision:</source>
        <translation>精度：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="188"/>
        <source>Load the model in:</source>
        <translation>模型加载精度：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="189"/>
        <source>Validation share / every:</source>
        <translation>验证比例 / 间隔步数：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="190"/>
        <source>Stage:</source>
        <translation>阶段：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="191"/>
        <source>Continue from:</source>
        <translation>继续自：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="192"/>
        <source>Train embeddings:</source>
        <translation>训练词嵌入：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="197"/>
        <source>all (or e.g. 0,1)</source>
        <translation>全部（或如 0,1）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="198"/>
        <source>CUDA device numbers to train on, separated by commas</source>
        <translation>用于训练的 CUDA 设备编号，以逗号分隔</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="200"/>
        <source>More than one starts one process per GPU through torchrun</source>
        <translation>大于 1 时通过 torchrun 为每个 GPU 启动一个进程</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="203"/>
        <source>Where it runs</source>
        <translation>运行位置</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="206"/>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="207"/>
        <source>GPUs / processes:</source>
        <translation>GPU / 进程数：</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="230"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="231"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="233"/>
        <source>Stop after the current step; a checkpoint is saved and a rerun resumes</source>
        <translation>在当前步骤完成后停止；会保存检查点，再次运行时从中继续</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="234"/>
        <source>Merge into the model…</source>
        <translation>合并到模型…</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="236"/>
        <source>Merge the finished adapter into its base model (safetensors)</source>
        <translation>把训练完成的适配器合并到其基础模型（safetensors）</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="237"/>
        <source>Download adapter</source>
        <translation>下载适配器</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="238"/>
        <source>Download the finished run&apos;s adapter from its SSH host</source>
        <translation>从 SSH 主机下载已完成运行的适配器</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="240"/>
        <source>No run yet.</source>
        <translation>还没有运行。</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="250"/>
        <source>The run&apos;s log appears here.</source>
        <translation>运行日志会显示在这里。</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="254"/>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="255"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="256"/>
        <source>Target</source>
        <translation>目标</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="257"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="258"/>
        <source>Step</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="259"/>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="260"/>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="273"/>
        <source>Convert to GGUF…</source>
        <translation>转换为 GGUF…</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="274"/>
        <source>Open the merged model in the convert-and-quantize wizard</source>
        <translation>在转换与量化向导中打开合并后的模型</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="293"/>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="385"/>
        <source>{learned}: what the loss learns (the answer and its end token; all of a pre-training block).</source>
        <translation>{learned}：损失函数学习的部分（回答及其结束符；预训练块的全部）。</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="389"/>
        <source>Plain text: masked, not learned (the prompt).</source>
        <translation>普通文字：被遮盖，不学习（提示部分）。</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="402"/>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="409"/>
        <source>Choose the dataset</source>
        <translation>选择数据集</translation>
    </message>
    <message>
        <location filename="../../app/views/training_view.py" line="411"/>
        <source>Data (*.txt *.json *.jsonl);;All files (*)</source>
        <translation>数据 (*.txt *.json *.jsonl);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>TrayController</name>
    <message>
        <location filename="../../app/controllers/tray.py" line="174"/>
        <source>Alpaca Desk is still downloading</source>
        <extracomment>Downloads listed one per line in the tray menu; more are summed up in one line.</extracomment>
        <translation>Alpaca Desk 仍在下载</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="176"/>
        <source>The downloads go on with the window closed. Click this icon to open the window again; Quit in its menu stops them (they resume the next time you start Alpaca Desk).</source>
        <translation>窗口已关闭，下载仍在继续。点击此图标可重新打开窗口；选择其菜单中的“退出”会停止下载（下次启动 Alpaca Desk 时继续）。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="229"/>
        <source>… and {0} more</source>
        <translation>…… 另有 {0} 个</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="241"/>
        <source>Alpaca Desk: no download in progress</source>
        <translation>Alpaca Desk：没有正在进行的下载</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="245"/>
        <source>Alpaca Desk: downloading {0} file(s)</source>
        <translation>Alpaca Desk：正在下载 {0} 个文件</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="247"/>
        <source>{0}% of {1}</source>
        <translation>{1} 的 {0}%</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="251"/>
        <source>{0} left</source>
        <translation>剩余 {0}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="259"/>
        <source>{0}: starting</source>
        <translation>{0}：正在开始</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="260"/>
        <source>{0}: {1}%</source>
        <translation>{0}：{1}%</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="262"/>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="262"/>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="262"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="263"/>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="273"/>
        <source>Download failed</source>
        <translation>下载失败</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="274"/>
        <source>{0}: {1} Click to open the downloads.</source>
        <translation>{0}：{1} 点击打开下载列表。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="287"/>
        <source>{0} is downloaded and verified. Click to chat with it.</source>
        <translation>{0} 已下载并通过校验。点击即可开始对话。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="289"/>
        <source>{0} is downloaded and verified. Click to convert it to GGUF.</source>
        <translation>{0} 已下载并通过校验。点击将其转换为 GGUF。</translation>
    </message>
    <message>
        <location filename="../../app/controllers/tray.py" line="290"/>
        <source>Download finished</source>
        <translation>下载完成</translation>
    </message>
</context>
<context>
    <name>VocabDialog</name>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="43"/>
        <source>Extend a vocabulary</source>
        <translation>扩充词表</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="54"/>
        <source>Chinese-LLaMA extends LLaMA&apos;s 32,000 pieces with 20,000 pieces learned from Chinese text (paper section 4.2), so Chinese needs about half the tokens. Do the same with your corpus: a SentencePiece model is trained on it and its new pieces are appended to the base tokenizer.</source>
        <translation>Chinese-LLaMA 在 LLaMA 的 32,000 个词元之外，加入了从中文文本学到的 20,000 个词元（论文第 4.2 节），中文所需的 token 因此减少约一半。你也可以用自己的语料这样做：先在语料上训练一个 SentencePiece 模型，再把其中的新词元追加到基础分词器中。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="62"/>
        <source>UTF-8 text, one sentence or paragraph per line</source>
        <translation>UTF-8 文本，每行一句或一段</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="68"/>
        <source>Pieces of the new SentencePiece model (the paper used 20,000).</source>
        <translation>新 SentencePiece 模型的词元数（论文使用 20,000）。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="71"/>
        <source>The tokenizer to extend: &apos;llama&apos; for the original LLaMA tokenizer, or a tokenizer.model file.</source>
        <translation>要扩充的分词器：填 &apos;llama&apos; 表示原版 LLaMA 分词器，或填一个 tokenizer.model 文件。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="74"/>
        <source>Optional: merge this .model instead of training one</source>
        <translation>可选：直接合并这个 .model，而不重新训练</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="75"/>
        <source>Add a pad token (Chinese-Alpaca: 49,954 pieces)</source>
        <translation>添加 pad token（Chinese-Alpaca：49,954 个词元）</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="78"/>
        <source>Chinese-Alpaca&apos;s vocabulary is Chinese-LLaMA&apos;s plus one pad token added for instruction fine-tuning. A model&apos;s embedding matrix has exactly one row per piece, so a LLaMA tokenizer must go with LLaMA weights and an Alpaca tokenizer with Alpaca weights: mixing them breaks merging and conversion.</source>
        <translation>Chinese-Alpaca 的词表是 Chinese-LLaMA 的词表加上指令精调时添加的一个 pad token。模型的词嵌入矩阵每个词元正好一行，所以 LLaMA 分词器必须配 LLaMA 权重，Alpaca 分词器必须配 Alpaca 权重：混用会导致合并和转换失败。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="85"/>
        <source>Folder for the new tokenizer</source>
        <translation>新分词器的保存文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="87"/>
        <source>Optional: a GGUF file or model folder to check the size against</source>
        <translation>可选：用于核对大小的 GGUF 文件或模型文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="90"/>
        <source>The merged vocabulary must have exactly as many pieces as the model&apos;s embedding has rows; the report warns when they differ.</source>
        <translation>合并后的词表大小必须与模型词嵌入矩阵的行数完全相同；两者不一致时报告会给出警告。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="96"/>
        <source>Corpus</source>
        <translation>语料</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="97"/>
        <source>New pieces</source>
        <translation>新词元数</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="98"/>
        <source>Base tokenizer</source>
        <translation>基础分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="99"/>
        <source>Existing model</source>
        <translation>已有模型</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="101"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="102"/>
        <source>For the model</source>
        <translation>目标模型</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="110"/>
        <source>The report appears here.</source>
        <translation>报告将显示在这里。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="112"/>
        <source>Train and merge</source>
        <translation>训练并合并</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="115"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="118"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="139"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="145"/>
        <source>Choose a corpus</source>
        <translation>选择语料</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="145"/>
        <source>Text (*.txt);;All (*)</source>
        <translation>文本 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="153"/>
        <source>Choose the base tokenizer</source>
        <translation>选择基础分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="159"/>
        <source>Choose a SentencePiece model</source>
        <translation>选择 SentencePiece 模型</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="165"/>
        <source>Choose the model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="165"/>
        <source>GGUF models (*.gguf);;config.json (config.json)</source>
        <translation>GGUF 模型 (*.gguf);;config.json (config.json)</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="171"/>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="184"/>
        <source>Choose a corpus to train on, or an existing SentencePiece model to merge.</source>
        <translation>请选择用于训练的语料，或一个要合并的已有 SentencePiece 模型。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="186"/>
        <source>The corpus {0} does not exist.</source>
        <translation>语料 {0} 不存在。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="188"/>
        <source>Choose an output folder.</source>
        <translation>请选择输出文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="190"/>
        <source>The output folder {0} is not empty; choose a new one.</source>
        <translation>输出文件夹 {0} 不是空的，请选择一个新文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="232"/>
        <location filename="../../app/views/vocab_dialog.py" line="329"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="233"/>
        <source>Reading the corpus</source>
        <translation>正在读取语料</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="234"/>
        <source>Normalizing</source>
        <translation>正在规范化</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="235"/>
        <source>Learning pieces</source>
        <translation>正在学习词元</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="236"/>
        <source>Saving</source>
        <translation>正在保存</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="237"/>
        <source>Writing the tokenizer</source>
        <translation>正在写入分词器</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="238"/>
        <source>Loading</source>
        <translation>正在加载</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="239"/>
        <source>Merging</source>
        <translation>正在合并</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="240"/>
        <source>Counting tokens</source>
        <translation>正在统计 token</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="241"/>
        <location filename="../../app/views/vocab_dialog.py" line="289"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="251"/>
        <source>Cancelled; nothing was written.</source>
        <translation>已取消，未写入任何文件。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="260"/>
        <source>Trained {0:,} pieces on {1:,} lines in {2} s.</source>
        <translation>已在 {1:,} 行语料上训练出 {0:,} 个词元，用时 {2} 秒。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="268"/>
        <source>The newly trained model: {0}</source>
        <translation>新训练的模型：{0}</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="271"/>
        <source>Base tokenizer: {0:,} pieces. Pieces added: {1:,}. Final size: {2:,}.</source>
        <translation>基础分词器：{0:,} 个词元。新增：{1:,} 个。合并后：{2:,} 个。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="276"/>
        <source>A pad token was added: {0}.</source>
        <translation>已添加 pad token：{0}。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="280"/>
        <source>On {0:,} characters of the corpus: {1:,} tokens before, {2:,} after ({3:.0%}).</source>
        <translation>在 {0:,} 个语料字符上：合并前 {1:,} 个 token，合并后 {2:,} 个（{3:.0%}）。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="287"/>
        <source>Written to {0}</source>
        <translation>已写入 {0}</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="303"/>
        <source>The model&apos;s embedding has {0:,} rows: the sizes match.</source>
        <translation>模型的词嵌入有 {0:,} 行：大小一致。</translation>
    </message>
    <message>
        <location filename="../../app/views/vocab_dialog.py" line="315"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
</context>
</TS>
