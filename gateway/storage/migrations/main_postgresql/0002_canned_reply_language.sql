-- Canned replies per language: each reply belongs to one language tag. Replies stored before
-- this were written for the organisation's default language, English.
ALTER TABLE gateway_canned_replies ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
