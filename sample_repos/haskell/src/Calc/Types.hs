-- | The syntax tree and errors shared by every stage of the calculator.
module Calc.Types
  ( Expr (..)
  , BinOp (..)
  , Stmt (..)
  , CalcError (..)
  , Name
  , Result
  ) where

-- | Variable and function names.
type Name = String

-- | Binary operators, in no particular order.
data BinOp = Add | Sub | Mul | Div | Pow
  deriving (Eq, Show, Enum, Bounded)

-- | An arithmetic expression.
data Expr
  = Num Double
  | Var Name
  | Neg Expr
  | Bin BinOp Expr Expr
  | Call Name [Expr]
  deriving (Eq, Show)

-- | A line of input: a definition or an expression to print.
data Stmt
  = Assign Name Expr
  | Define Name [Name] Expr
  | Print Expr
  deriving (Eq, Show)

-- | Everything that can go wrong, with the position where it makes sense.
data CalcError
  = LexError Int Char
  | ParseError String
  | UnboundVariable Name
  | ArityMismatch Name Int Int
  | DivideByZero
  deriving (Eq, Show)

-- | The outcome of a stage.
type Result a = Either CalcError a
