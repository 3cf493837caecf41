-- Placeholder: number 017 belongs to another change of issue 16 (tern
-- needs numbers without gaps). When the branches merge, the real 017
-- replaces this file, which does nothing.
SELECT 1;
