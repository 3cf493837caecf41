-- Placeholder: number 018 belongs to another change of issue 16 (tern
-- needs numbers without gaps). When the branches merge, the real 018
-- replaces this file, which does nothing.
SELECT 1;
