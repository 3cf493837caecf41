-- Placeholder: number 019 belongs to another change of issue 16 (tern
-- needs numbers without gaps). When the branches merge, the real 019
-- replaces this file, which does nothing.
SELECT 1;
