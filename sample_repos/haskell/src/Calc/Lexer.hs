-- | Splits input into tokens.
module Calc.Lexer (Token (..), tokenize) where

import Data.Char (isAlpha, isAlphaNum, isDigit, isSpace)

import Calc.Types

-- | A lexical token.
data Token
  = TNum Double
  | TIdent String
  | TSym Char
  | TEquals
  deriving (Eq, Show)

-- | Turns a line into tokens, or reports the first character that starts none.
tokenize :: String -> Result [Token]
tokenize = go 0
  where
    go _ [] = Right []
    go i s@(c : cs)
      | isSpace c = go (i + 1) cs
      | isDigit c = let (num, rest) = span isNumChar s in (TNum (read num) :) <$> go (i + length num) rest
      | isAlpha c = let (ident, rest) = span isAlphaNum s in (TIdent ident :) <$> go (i + length ident) rest
      | c == '=' = (TEquals :) <$> go (i + 1) cs
      | c `elem` "+-*/^()," = (TSym c :) <$> go (i + 1) cs
      | otherwise = Left (LexError i c)

-- | Digits and the decimal point.
isNumChar :: Char -> Bool
isNumChar c = isDigit c || c == '.'
