-- Lazy loading at start-up, run by tests/editors/test_nvim.py as
--
--   nvim --headless --clean -n --cmd 'set rtp^=editors/nvim' \
--        --cmd "autocmd FileType optmd ++once lua require('nemo').setup({...})" SPEC -c 'luafile attach.lua'
--
-- which is what lazy.nvim's `ft = 'optmd'` does: setup() runs inside the FileType event of the
-- first spec, before VimEnter. The spec's buffer must still get exactly one nemo client and its
-- diagnostics.
local buf = vim.api.nvim_get_current_buf()
local function clients()
  return vim.lsp.get_clients({ bufnr = buf, name = 'nemo' })
end
local function finish(ok, what)
  if not ok then
    io.stderr:write(('FAILED: %s (filetype %s, %d nemo client(s), diagnostics %s)\n'):format(what,
      vim.bo[buf].filetype, #clients(), vim.inspect(vim.tbl_map(function(d) return d.code end,
        vim.diagnostic.get(buf)))))
    os.exit(1)
  end
end
finish(vim.bo[buf].filetype == 'optmd', 'the spec is not optmd')
finish(vim.wait(20000, function() return #clients() > 0 end, 20), 'no nemo client attached')
finish(vim.wait(15000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == 'NEMO124' then
      return true
    end
  end
end, 20), 'no NEMO124 diagnostic')
finish(#vim.lsp.get_clients({ name = 'nemo' }) == 1, 'more than one nemo client')
io.stderr:write('attached at start-up: ok\n')
os.exit(0)
