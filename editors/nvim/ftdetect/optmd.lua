-- *.opt.md optimization specs get the filetype `optmd` (Markdown highlighting and editing are
-- reused: see ftplugin/optmd.lua and syntax/optmd.vim). Plain *.md files stay `markdown`.
require('nemo.filetype').register()
