-- | The environment: variables and user-defined functions.
module Calc.Env
  ( Env
  , Function (..)
  , emptyEnv
  , bindVar
  , bindFunction
  , lookupVar
  , lookupFunction
  ) where

import qualified Data.Map.Strict as Map

import Calc.Types

-- | A user-defined function: parameter names and body.
data Function = Function [Name] Expr
  deriving (Show)

-- | Variables and functions in scope.
data Env = Env
  { envVars :: Map.Map Name Double
  , envFunctions :: Map.Map Name Function
  }

-- | An environment with @pi@ and @e@ defined.
emptyEnv :: Env
emptyEnv = Env (Map.fromList [("pi", pi), ("e", exp 1)]) Map.empty

-- | Sets a variable, replacing any previous value.
bindVar :: Name -> Double -> Env -> Env
bindVar name value env = env {envVars = Map.insert name value (envVars env)}

-- | Defines a function, replacing any previous definition.
bindFunction :: Name -> Function -> Env -> Env
bindFunction name fn env = env {envFunctions = Map.insert name fn (envFunctions env)}

-- | The value of a variable, or an 'UnboundVariable' error.
lookupVar :: Name -> Env -> Result Double
lookupVar name = maybe (Left (UnboundVariable name)) Right . Map.lookup name . envVars

-- | A user-defined function by name.
lookupFunction :: Name -> Env -> Maybe Function
lookupFunction name = Map.lookup name . envFunctions
