-- | Rendering of expressions, values and errors for the terminal.
module Calc.Pretty (Pretty (..), renderValue) where

import Numeric (showFFloat)

import Calc.Types

-- | Things that can be shown to the user.
class Pretty a where
  -- | The text shown for a value.
  pretty :: a -> String

  -- | The text with parentheses when it appears as an operand.
  prettyOperand :: a -> String
  prettyOperand = pretty

instance Pretty BinOp where
  pretty op = case op of
    Add -> "+"
    Sub -> "-"
    Mul -> "*"
    Div -> "/"
    Pow -> "^"

instance Pretty Expr where
  pretty (Num n) = renderValue n
  pretty (Var x) = x
  pretty (Neg e) = "-" ++ prettyOperand e
  pretty (Bin op a b) = prettyOperand a ++ " " ++ pretty op ++ " " ++ prettyOperand b
  pretty (Call f as) = f ++ "(" ++ commaSeparated (map pretty as) ++ ")"
  prettyOperand e@(Bin _ _ _) = "(" ++ pretty e ++ ")"
  prettyOperand e = pretty e

instance Pretty CalcError where
  pretty (LexError i c) = "unexpected character " ++ show c ++ " at column " ++ show (i + 1)
  pretty (ParseError msg) = "syntax error: " ++ msg
  pretty (UnboundVariable x) = "unknown name " ++ x
  pretty (ArityMismatch f want got) = f ++ " takes " ++ show want ++ " arguments, got " ++ show got
  pretty DivideByZero = "division by zero"

-- | A number without a trailing @.0@ when it is whole, else with up to six decimals.
renderValue :: Double -> String
renderValue v
  | v == fromInteger (round v) = show (round v :: Integer)
  | otherwise = showFFloat (Just 6) v ""

-- | Joins with commas.
commaSeparated :: [String] -> String
commaSeparated [] = ""
commaSeparated [x] = x
commaSeparated (x : xs) = x ++ ", " ++ commaSeparated xs
