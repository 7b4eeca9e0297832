-- | Evaluates expressions and runs statements against an environment.
module Calc.Eval (eval, exec, builtins) where

import Calc.Env
import Calc.Types

-- | Functions every session has: name, arity and implementation.
builtins :: [(Name, Int, [Double] -> Double)]
builtins =
  [ ("sqrt", 1, sqrt . head)
  , ("abs", 1, abs . head)
  , ("max", 2, \[a, b] -> max a b)
  , ("min", 2, \[a, b] -> min a b)
  ]

-- | Evaluates an expression; division by zero and unknown names are errors.
eval :: Env -> Expr -> Result Double
eval _ (Num n) = Right n
eval env (Var x) = lookupVar x env
eval env (Neg e) = negate <$> eval env e
eval env (Bin op a b) = do
  x <- eval env a
  y <- eval env b
  applyOp op x y
eval env (Call f argExprs) = do
  values <- mapM (eval env) argExprs
  callFunction env f values

-- | Applies a binary operator to two numbers.
applyOp :: BinOp -> Double -> Double -> Result Double
applyOp Div _ 0 = Left DivideByZero
applyOp op x y = Right (opFunction op x y)
  where
    opFunction Add = (+)
    opFunction Sub = (-)
    opFunction Mul = (*)
    opFunction Div = (/)
    opFunction Pow = (**)

-- | Calls a user function (its parameters bound to the arguments) or a builtin.
callFunction :: Env -> Name -> [Double] -> Result Double
callFunction env f values = case lookupFunction f env of
  Just (Function params body)
    | length params /= length values -> Left (ArityMismatch f (length params) (length values))
    | otherwise -> eval (foldr (uncurry bindVar) env (zip params values)) body
  Nothing -> case [(n, impl) | (name, n, impl) <- builtins, name == f] of
    [(n, impl)]
      | n == length values -> Right (impl values)
      | otherwise -> Left (ArityMismatch f n (length values))
    _ -> Left (UnboundVariable f)

-- | Runs a statement: definitions update the environment, expressions give a value to print.
exec :: Env -> Stmt -> Result (Env, Maybe Double)
exec env (Assign x e) = (\v -> (bindVar x v env, Just v)) <$> eval env e
exec env (Define f params body) = Right (bindFunction f (Function params body) env, Nothing)
exec env (Print e) = (\v -> (env, Just v)) <$> eval env e

-- | Evaluates each expression in turn, stopping at the first error.
evalAll :: Env -> [Expr] -> Result [Double]
evalAll env = mapM (eval env)
