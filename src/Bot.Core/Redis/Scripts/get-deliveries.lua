-- Reads delivery records of one announcement wherever they live, gate key or folded bucket (delivery-records.lua,
-- prepended), as their unpacked values.
-- KEYS[1] announcement hash, KEYS[1 + i] delivery key i
-- Returns one value per delivery key, false where there is no record.
local values = {}
for i = 2, #KEYS do values[i - 1] = record_load(KEYS[1], KEYS[i]) or false end
return values
