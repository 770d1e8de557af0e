--- Filetype `optmd` for `*.opt.md` specs. Called from ftdetect/, plugin/ and setup(); idempotent.
local M = {}

function M.register()
  vim.filetype.add({ pattern = { ['.*%.opt%.md'] = 'optmd' } })
  -- Tree-sitter: parse optmd buffers with the Markdown parser (highlighting, folds, `gO`, and
  -- nvim-treesitter modules all follow this mapping).
  if vim.treesitter and vim.treesitter.language and vim.treesitter.language.register then
    pcall(vim.treesitter.language.register, 'markdown', 'optmd')
  end
end

return M
