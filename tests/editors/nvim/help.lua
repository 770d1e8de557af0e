-- The plugin's help file, run by tests/editors/test_nvim.py:
--   nvim --headless --clean --cmd 'set rtp^=PLUGIN' -l help.lua DOCDIR
-- DOCDIR is a copy of editors/nvim/doc: `:helptags` must accept it (no duplicate tags), and every
-- |link| in nemo.txt must name a tag of this file or of Neovim's own help.
local docdir = assert(arg[1], 'usage: help.lua DOCDIR')
local ok, err = pcall(vim.cmd.helptags, vim.fn.fnameescape(docdir))
if not ok then
  io.stderr:write('FAILED: :helptags ' .. docdir .. ': ' .. tostring(err) .. '\n')
  os.exit(1)
end
local own = {}
for _, line in ipairs(vim.fn.readfile(docdir .. '/tags')) do
  own[line:match('^[^\t]+')] = true
end
local missing = {}
for _, tag in ipairs({ 'nemo.txt', 'nemo-setup', 'nemo.setup()', 'nemo-options', 'nemo-settings', ':NemoSolve',
  ':NemoRegenerate', ':NemoOpenOptimizer', ':NemoOpenSimulator', ':NemoOpenLog', ':NemoReport', 'nemo-lenses',
  ':NemoRepair', ':NemoOpen', 'nemo.status()', 'nemo-statusline' }) do
  if not own[tag] then
    missing[#missing + 1] = 'tag not defined: ' .. tag
  end
end
vim.opt.runtimepath:prepend(vim.fs.dirname(docdir))
local text = table.concat(vim.fn.readfile(docdir .. '/nemo.txt'), '\n')
for link in text:gmatch('|([^|%s]+)|') do
  if not own[link] and #vim.fn.getcompletion(link, 'help') == 0 then
    missing[#missing + 1] = 'dangling link: |' .. link .. '|'
  end
end
if #missing > 0 then
  io.stderr:write('FAILED\n' .. table.concat(missing, '\n') .. '\n')
  os.exit(1)
end
local n = 0
for _ in pairs(own) do
  n = n + 1
end
io.stderr:write(('help ok: %d tags\n'):format(n))
os.exit(0)
