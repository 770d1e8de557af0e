-- Filetype plugin for nemo optimization specs (*.opt.md): everything Markdown's ftplugins set
-- (comments, 'formatoptions', folding, the `gO` outline, `]]`/`[[`), like Vim's rmd ftplugin does.
if vim.b.did_ftplugin then
  return
end
vim.cmd('runtime! ftplugin/markdown.vim ftplugin/markdown_*.vim ftplugin/markdown/*.vim')
vim.cmd('runtime! ftplugin/markdown.lua ftplugin/markdown_*.lua ftplugin/markdown/*.lua')
vim.b.did_ftplugin = 1
