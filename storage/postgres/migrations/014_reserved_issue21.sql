-- Placeholder: number 014 belongs to another change of issue 21 (tern
-- needs numbers without gaps). When the branches merge, the real 014
-- replaces this file, which does nothing.
SELECT 1;
